using System.CommandLine;
using System.Globalization;
using Cloud.Cli.Commands.Pipeline;
using Cloud.Cli.Infrastructure;
using Cloud.Dashboard;

namespace Cloud.Cli.Commands;

/// <summary>
/// <c>cloud dashboard STREAM</c> — the web dashboard against a stream that something else writes to (a running
/// local stack or a real stream): tails every open shard and shows records/s per shard, lag and throttles.
/// Prints the URL; Ctrl+C (or <c>--duration</c>) stops.
/// </summary>
public static class DashboardCommand
{
    /// <summary>Builds the verb.</summary>
    public static Command Create(CliConsole console)
    {
        var stream = new Argument<string>("STREAM") { Description = "Stream to watch" };
        var port = new Option<int>("--port") { Description = "Loopback port to serve on (0: any free port)", DefaultValueFactory = _ => 0 };
        var duration = new Option<double?>("--duration") { Description = "Seconds to run (default: until Ctrl+C)" };
        var command = new Command("dashboard", "Serve the live web dashboard of a running stream on 127.0.0.1 (reads every shard from LATEST)") { stream, port, duration };
        command.SetAction(async (parse, ct) =>
        {
            var name = parse.GetRequiredValue(stream);
            var problems = new List<string>();
            if (parse.GetValue(port) is < 0 or > 65535)
            {
                problems.Add($"--port must be between 0 (any free port) and 65535 (was {parse.GetValue(port)}).");
            }

            if (parse.GetValue(duration) is { } d && (d <= 0 || double.IsNaN(d)))
            {
                problems.Add($"--duration must be positive (was {d.ToString(CultureInfo.InvariantCulture)}).");
            }

            if (problems.Count > 0)
            {
                throw CliException.Usage(string.Join(Environment.NewLine, problems));
            }

            using var connection = await CloudConnection.FromAsync(parse, ct).ConfigureAwait(false);
            await using var tail = new StreamTailSource(connection.Kinesis, name);
            try
            {
                await tail.InitializeAsync(ct).ConfigureAwait(false);
            }
            catch (Amazon.Kinesis.Model.ResourceNotFoundException ex)
            {
                throw CliException.NotFound($"stream {name} does not exist.", ex);
            }

            await using var web = await WebView.StartAsync(console, name, parse.GetValue(port), ct, tail).ConfigureAwait(false);
            tail.Start(TimeSpan.FromSeconds(1));
            if (!parse.GetValue(GlobalOptions.Json))
            {
                console.Error.WriteLine("Press Ctrl+C to stop.");
            }

            try
            {
                await Task.Delay(parse.GetValue(duration) is { } seconds ? TimeSpan.FromSeconds(seconds) : Timeout.InfiniteTimeSpan, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            if (parse.GetValue(GlobalOptions.Json))
            {
                var last = await tail.GetSnapshotAsync(CancellationToken.None).ConfigureAwait(false);
                console.WriteJsonLine(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("stream", name);
                    w.WriteString("url", web.Url.ToString());
                    w.WriteNumber("shards", last.Shards.Count);
                    w.WriteEndObject();
                });
            }

            return ct.IsCancellationRequested ? ExitCodes.Cancelled : ExitCodes.Success;
        });
        return command;
    }
}
