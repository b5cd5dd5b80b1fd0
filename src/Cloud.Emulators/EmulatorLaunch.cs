using System.Globalization;

namespace Cloud.Emulators;

/// <summary>Everything needed to start one emulator process: node arguments, environment, folder, port.</summary>
internal sealed record EmulatorLaunch(
    string Name,
    EmulatedService Service,
    string WorkingDirectory,
    IReadOnlyList<string> NodeArguments,
    IReadOnlyDictionary<string, string> Environment,
    int Port,
    IReadOnlyList<int> ExtraPorts)
{
    public const string KinesisLocalName = "kinesis-local";
    public const string KinesaliteName = "kinesalite";
    public const string DynaliteName = "dynalite";

    /// <summary>The kinesis-local *_DURATION variables (from the 0.6.2 package's configuration).</summary>
    public static readonly IReadOnlyList<string> KinesisLocalDurationVariables =
    [
        "CREATE_STREAM_DURATION",
        "DELETE_STREAM_DURATION",
        "REGISTER_STREAM_CONSUMER_DURATION",
        "DEREGISTER_STREAM_CONSUMER_DURATION",
        "START_STREAM_ENCRYPTION_DURATION",
        "STOP_STREAM_ENCRYPTION_DURATION",
        "MERGE_SHARDS_DURATION",
        "SPLIT_SHARD_DURATION",
        "UPDATE_SHARD_COUNT_DURATION",
        "UPDATE_STREAM_MODE_DURATION",
    ];

    public Uri Endpoint => new($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}");

    public static EmulatorLaunch ForKinesis(NodeTools tools, EmulatorOptions options, IReadOnlyList<string> preloads)
    {
        return options.KinesisEngine == KinesisEngine.Kinesalite ? Kinesalite(tools, options, preloads) : KinesisLocal(tools, options, preloads);
    }

    public static EmulatorLaunch KinesisLocal(NodeTools tools, EmulatorOptions options, IReadOnlyList<string> preloads)
    {
        var plainPort = LoopbackPorts.GetFreePort();
        var tlsPort = LoopbackPorts.GetFreePort();
        var delay = Milliseconds(options.StateChangeDelay) + "ms";
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["KINESIS_MOCK_PLAIN_PORT"] = Invariant(plainPort),
            ["KINESIS_MOCK_TLS_PORT"] = Invariant(tlsPort),
            ["SHARD_LIMIT"] = Invariant(options.ShardLimit),
            ["ON_DEMAND_STREAM_COUNT_LIMIT"] = Invariant(options.OnDemandStreamCountLimit),
            ["AWS_REGION"] = options.Region,
            ["LOG_LEVEL"] = options.LogLevel,
            ["ROOT_LOG_LEVEL"] = "ERROR",
        };
        foreach (var variable in KinesisLocalDurationVariables)
        {
            env[variable] = delay;
        }

        if (options.PersistDirectory is { } persist)
        {
            var folder = Path.GetFullPath(Path.Combine(persist, KinesisLocalName));
            Directory.CreateDirectory(folder);
            env["SHOULD_PERSIST_DATA"] = "true";
            env["LOAD_DATA_IF_EXISTS"] = "true";
            env["PERSIST_PATH"] = folder;
            env["PERSIST_FILE_NAME"] = "kinesis-data.json";
            env["PERSIST_INTERVAL"] = "1s";
        }
        else
        {
            env["SHOULD_PERSIST_DATA"] = "false";
            env["LOAD_DATA_IF_EXISTS"] = "false";
        }

        foreach (var (key, value) in options.KinesisLocalEnvironment)
        {
            env[key] = value;
        }

        var packageDirectory = tools.GetPackageDirectory("kinesis-local");
        var args = new List<string>(preloads) { Path.Combine(packageDirectory, "main.js") };

        // kinesis-local reads server.json (its TLS certificate) from the working directory.
        return new EmulatorLaunch(KinesisLocalName, EmulatedService.Kinesis, packageDirectory, args, env, plainPort, [tlsPort]);
    }

    public static EmulatorLaunch Kinesalite(NodeTools tools, EmulatorOptions options, IReadOnlyList<string> preloads)
    {
        var port = LoopbackPorts.GetFreePort();
        var delay = Invariant(Milliseconds(options.StateChangeDelay));
        var packageDirectory = tools.GetPackageDirectory("kinesalite");
        var args = new List<string>(preloads)
        {
            Path.Combine(packageDirectory, "cli.js"),
            "--port", Invariant(port),
            "--createStreamMs", delay,
            "--deleteStreamMs", delay,
            "--updateStreamMs", delay,
            "--shardLimit", Invariant(options.ShardLimit),
        };
        AddPath(args, options, KinesaliteName);
        return new EmulatorLaunch(KinesaliteName, EmulatedService.Kinesis, packageDirectory, args, BaseEnvironment(options), port, []);
    }

    public static EmulatorLaunch Dynalite(NodeTools tools, EmulatorOptions options, IReadOnlyList<string> preloads)
    {
        var port = LoopbackPorts.GetFreePort();
        var delay = Invariant(Milliseconds(options.StateChangeDelay));
        var packageDirectory = tools.GetPackageDirectory("dynalite");
        var args = new List<string>(preloads)
        {
            Path.Combine(packageDirectory, "cli.js"),
            "--host", "127.0.0.1",
            "--port", Invariant(port),
            "--createTableMs", delay,
            "--deleteTableMs", delay,
            "--updateTableMs", delay,
        };
        AddPath(args, options, DynaliteName);
        return new EmulatorLaunch(DynaliteName, EmulatedService.DynamoDb, packageDirectory, args, BaseEnvironment(options), port, []);
    }

    private static Dictionary<string, string> BaseEnvironment(EmulatorOptions options) =>
        new(StringComparer.Ordinal) { ["AWS_REGION"] = options.Region };

    private static void AddPath(List<string> args, EmulatorOptions options, string name)
    {
        if (options.PersistDirectory is { } persist)
        {
            var folder = Path.GetFullPath(Path.Combine(persist, name));
            Directory.CreateDirectory(folder);
            args.Add("--path");
            args.Add(folder);
        }
    }

    private static long Milliseconds(TimeSpan span) => (long)span.TotalMilliseconds;

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
