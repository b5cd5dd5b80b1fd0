using System.Diagnostics;

namespace Cloud.Telemetry;

/// <summary>
/// The one naming scheme for the project's telemetry. A library <c>Cloud.X</c> owns a meter and an
/// <see cref="ActivitySource"/> both named <c>Cloud.X</c>; its instruments are named <c>cloud.x.thing</c>
/// (lower case, dots between scopes, underscores inside a word: <see cref="Instrument"/>). Tags never carry
/// partition keys, user ids or field values: <see cref="TelemetryTags"/> lists the keys in use.
/// </summary>
public static class TelemetryNames
{
    /// <summary>Producer library (meter and activity source).</summary>
    public const string Producer = "Cloud.Producer";
    /// <summary>Consumer / batch processor library.</summary>
    public const string Consumer = "Cloud.Consumer";
    /// <summary>Event source mapping runner (poll, invoke).</summary>
    public const string EventSourceMapping = "Cloud.EventSourceMapping";
    /// <summary>Lambda functions (aggregate).</summary>
    public const string Functions = "Cloud.Functions";
    /// <summary>Privacy library (encrypt, decrypt, forget, key cache, KMS).</summary>
    public const string Privacy = "Cloud.Privacy";

    /// <summary>Every meter and activity source name above, for exporters that subscribe by name.</summary>
    public static IReadOnlyList<string> All { get; } = [Producer, Consumer, EventSourceMapping, Functions, Privacy];

    /// <summary>
    /// Instrument name for <paramref name="thing"/> of the library <paramref name="source"/>:
    /// <c>Instrument("Cloud.Consumer", "records_in")</c> is <c>cloud.consumer.records_in</c>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not a <c>Cloud.*</c> name or <paramref name="thing"/> is not lower-case snake/dot case.</exception>
    public static string Instrument(string source, string thing)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(thing);
        if (!source.StartsWith("Cloud.", StringComparison.Ordinal) || source.Length == 6)
        {
            throw new ArgumentException($"Telemetry source \"{source}\" must be named Cloud.<Library>.", nameof(source));
        }
        foreach (char c in thing)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '.'))
            {
                throw new ArgumentException($"Instrument suffix \"{thing}\" may hold only a-z, 0-9, '_' and '.'.", nameof(thing));
            }
        }
        return string.Concat(source.ToLowerInvariant(), ".", thing);
    }
}

/// <summary>Activity (span) names, one constant per operation, grouped by the source that starts them.</summary>
public static class ActivityNames
{
    /// <summary><see cref="TelemetryNames.Producer"/>: one user record from acceptance to durable write.</summary>
    public const string Produce = "produce";
    /// <summary><see cref="TelemetryNames.Producer"/>: one PutRecords request.</summary>
    public const string PutRecords = "PutRecords";
    /// <summary><see cref="TelemetryNames.EventSourceMapping"/> / <see cref="TelemetryNames.Consumer"/>: one GetRecords poll of a shard.</summary>
    public const string Poll = "poll";
    /// <summary><see cref="TelemetryNames.EventSourceMapping"/>: one invocation of the function with a batch.</summary>
    public const string Invoke = "invoke";
    /// <summary><see cref="TelemetryNames.Functions"/>: one batch folded into window aggregates.</summary>
    public const string Aggregate = "aggregate";
    /// <summary><see cref="TelemetryNames.Privacy"/>: field encryption of one record.</summary>
    public const string Encrypt = "encrypt";
    /// <summary><see cref="TelemetryNames.Privacy"/>: field decryption of one record.</summary>
    public const string Decrypt = "decrypt";
    /// <summary><see cref="TelemetryNames.Privacy"/>: one forget (crypto-shredding) request.</summary>
    public const string Forget = "forget";
}

/// <summary>
/// The project's activity sources, one per library, created once per process as .NET recommends
/// (an <see cref="ActivitySource"/> costs nothing until a listener subscribes).
/// </summary>
public static class CloudActivitySources
{
    /// <summary>Source of <see cref="ActivityNames.Produce"/> and <see cref="ActivityNames.PutRecords"/>.</summary>
    public static ActivitySource Producer { get; } = new(TelemetryNames.Producer);
    /// <summary>Source of <see cref="ActivityNames.Poll"/> in the consumer.</summary>
    public static ActivitySource Consumer { get; } = new(TelemetryNames.Consumer);
    /// <summary>Source of <see cref="ActivityNames.Poll"/> and <see cref="ActivityNames.Invoke"/> in the runner.</summary>
    public static ActivitySource EventSourceMapping { get; } = new(TelemetryNames.EventSourceMapping);
    /// <summary>Source of <see cref="ActivityNames.Aggregate"/>.</summary>
    public static ActivitySource Functions { get; } = new(TelemetryNames.Functions);
    /// <summary>Source of <see cref="ActivityNames.Encrypt"/>, <see cref="ActivityNames.Decrypt"/> and <see cref="ActivityNames.Forget"/>.</summary>
    public static ActivitySource Privacy { get; } = new(TelemetryNames.Privacy);
}

/// <summary>
/// Tag keys used on the project's instruments and activities. None of them carries personal data: a shard id,
/// a stream or function name, an outcome or error class, a rank, never a partition key, user id or field value.
/// </summary>
public static class TelemetryTags
{
    /// <summary>Stream name.</summary>
    public const string Stream = "stream";
    /// <summary>Shard id (<c>shardId-000000000001</c>).</summary>
    public const string Shard = "shard";
    /// <summary>Outcome of a request: ok | partial | error.</summary>
    public const string Outcome = "outcome";
    /// <summary>Error class (an AWS error code or exception type name, never its message).</summary>
    public const string Error = "error";
    /// <summary>Failure reason (a fixed vocabulary).</summary>
    public const string Reason = "reason";
    /// <summary>Kind of something (record format, decode failure kind).</summary>
    public const string Kind = "kind";
    /// <summary>Function name.</summary>
    public const string Function = "function";
    /// <summary>Rank in a top-K list (1 = first): stands in for the key itself.</summary>
    public const string Rank = "rank";
    /// <summary>Which master-key provider answered (<c>kms</c>, <c>local</c>).</summary>
    public const string Provider = "provider";
    /// <summary>Which operation of a provider or store (<c>generate</c>, <c>decrypt</c>).</summary>
    public const string Operation = "operation";

    /// <summary>Every tag key above.</summary>
    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal) { Stream, Shard, Outcome, Error, Reason, Kind, Function, Rank, Provider, Operation };
}
