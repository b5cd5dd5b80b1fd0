using System.CommandLine;
using Cloud.Cli.Infrastructure;
using Cloud.Emulators;

namespace Cloud.Cli.Commands;

/// <summary><c>cloud local up|status|down</c> — the project's emulators, detached (like <c>localstack start -d</c>).</summary>
public static class LocalCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliConsole console)
    {
        var local = new Command("local", "Start, inspect and stop the local emulators (kinesis-local, dynalite)");
        var engine = new Option<string>("--engine") { Description = "Kinesis engine: kinesis-local (complete, default) or kinesalite (about 10x faster; no on-demand, UpdateShardCount, consumers, encryption)", DefaultValueFactory = _ => "kinesis-local" };
        engine.AcceptOnlyFromAmong("kinesis-local", "kinesalite");
        var persist = new Option<string?>("--persist") { Description = "Folder where kinesis-local persists streams across restarts" };
        var up = new Command("up", "Start the emulators detached and record their endpoints") { engine, persist };
        up.SetAction(async (parse, ct) =>
        {
            CloudConnection.SafeLocalEnvironment();
            if (await LocalStack.ReadRunningAsync(ct).ConfigureAwait(false) is { } running)
            {
                Print(console, parse, running, "already running");
                return ExitCodes.Success;
            }

            var options = new EmulatorOptions
            {
                KinesisEngine = parse.GetValue(engine) == "kinesalite" ? KinesisEngine.Kinesalite : KinesisEngine.KinesisLocal,
                PersistDirectory = parse.GetValue(persist) is { } folder ? Path.GetFullPath(folder) : null,
            };
            if (!parse.GetValue(GlobalOptions.Json))
            {
                console.Error.WriteLine("Starting emulators (the first run installs them with npm)...");
            }

            var state = await StartAsync(options, ct).ConfigureAwait(false);
            Print(console, parse, state, "running");
            return ExitCodes.Success;
        });

        var status = new Command("status", "Show whether the emulators run and where");
        status.SetAction(async (parse, ct) =>
        {
            var result = await DetachedEmulators.GetStatusAsync(LocalStack.StateFile, ct).ConfigureAwait(false);
            if (result.State is null)
            {
                if (parse.GetValue(GlobalOptions.Json))
                {
                    console.WriteJsonLine(w =>
                    {
                        w.WriteStartObject();
                        w.WriteBoolean("running", false);
                        w.WriteEndObject();
                    });
                }
                else
                {
                    console.Out.WriteLine("No local emulators. Start them with 'cloud local up'.");
                }

                return ExitCodes.Unreachable;
            }

            Print(console, parse, result.State, result.IsHealthy ? "running" : "unhealthy", result);
            return result.IsHealthy ? ExitCodes.Success : ExitCodes.Unreachable;
        });

        var down = new Command("down", "Stop the emulators");
        down.SetAction(async (parse, ct) =>
        {
            var stopped = await DetachedEmulators.StopAsync(LocalStack.StateFile, TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
            if (parse.GetValue(GlobalOptions.Json))
            {
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    w.WriteBoolean("stopped", stopped is not null);
                    w.WriteEndObject();
                });
            }
            else
            {
                console.Out.WriteLine(stopped is null ? "No local emulators were running." : "Stopped the local emulators.");
            }

            return ExitCodes.Success;
        });

        local.Add(up);
        local.Add(status);
        local.Add(down);
        return local;
    }

    /// <summary>Starts the detached stack, turning start failures into CLI errors.</summary>
    public static async Task<EmulatorState> StartAsync(EmulatorOptions options, CancellationToken ct)
    {
        try
        {
            return await DetachedEmulators.StartAsync(options, LocalStack.StateFile, ct).ConfigureAwait(false);
        }
        catch (EmulatorStartException ex)
        {
            throw new CliException(ExitCodes.Unreachable, "could not start the emulators: " + ex.Message, ex);
        }
        catch (NodeToolsException ex)
        {
            throw new CliException(ExitCodes.Unreachable, "could not install or run the npm emulators (Node.js >= 20 and npm are required): " + ex.Message, ex);
        }
    }

    private static void Print(CliConsole console, ParseResult parse, EmulatorState state, string status, EmulatorStatus? health = null)
    {
        if (parse.GetValue(GlobalOptions.Json))
        {
            console.WriteJsonLine(w =>
            {
                w.WriteStartObject();
                w.WriteBoolean("running", status != "unhealthy");
                w.WriteString("status", status);
                w.WriteString("kinesisEndpoint", state.KinesisEndpoint?.ToString().TrimEnd('/'));
                w.WriteString("dynamodbEndpoint", state.DynamoDbEndpoint?.ToString().TrimEnd('/'));
                w.WriteString("region", state.Region);
                w.WriteString("kinesisEngine", state.KinesisEngine);
                w.WriteString("stateFile", LocalStack.StateFile);
                w.WriteStartArray("processes");
                foreach (var p in state.Processes)
                {
                    w.WriteStartObject();
                    w.WriteString("name", p.Name);
                    w.WriteNumber("pid", p.Pid);
                    var problem = health?.Processes.FirstOrDefault(h => h.Pid == p.Pid)?.Problem;
                    if (problem is not null)
                    {
                        w.WriteString("problem", problem);
                    }

                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
            });
            return;
        }

        console.Out.WriteLine($"Local emulators {status}:");
        console.Out.WriteLine($"  Kinesis   {state.KinesisEndpoint?.ToString().TrimEnd('/')} ({state.KinesisEngine})");
        console.Out.WriteLine($"  DynamoDB  {state.DynamoDbEndpoint?.ToString().TrimEnd('/')}");
        foreach (var p in health?.Processes.Where(p => p.Problem is not null) ?? [])
        {
            console.Out.WriteLine($"  problem: {p.Name} (pid {p.Pid}): {p.Problem}");
        }

        console.Out.WriteLine("Use --local with any verb, or stop them with 'cloud local down'.");
    }
}
