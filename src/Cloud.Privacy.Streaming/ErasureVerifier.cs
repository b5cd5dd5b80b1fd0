using System.Text;
using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Kinesis;
using Cloud.Records;

namespace Cloud.Privacy.Streaming;

/// <summary>One thing to look for: a label for the report (never the value itself) and the value.</summary>
/// <param name="Label">What it is: <c>userId</c>, <c>pseudonym</c>, <c>keyId</c>, <c>value#1</c>, …</param>
/// <param name="Value">The text searched for (UTF-8, ordinal).</param>
public sealed record ErasureNeedle(string Label, string Value);

/// <summary>What one source held.</summary>
/// <param name="Name">The source (table or stream name).</param>
/// <param name="Kind">stream, table, checkpoints, …</param>
/// <param name="ItemsScanned">Items (records, rows, states) read.</param>
/// <param name="Matches">Items that held at least one needle.</param>
/// <param name="MatchedLabels">Labels of the needles found (never their values).</param>
public sealed record ErasureSourceReport(string Name, string Kind, long ItemsScanned, long Matches, IReadOnlyList<string> MatchedLabels);

/// <summary>The evidence of an erasure.</summary>
/// <param name="KeyStatus">The key table's answer for the user: Forgotten, Active, or null (no record at all).</param>
/// <param name="KeyDestroyedAt">When the user's key was destroyed (the tombstone's time), if it was.</param>
/// <param name="Pseudonymous">Whether the key table is read in pseudonymous mode.</param>
/// <param name="Sources">Every source scanned, with counts.</param>
/// <param name="ScannedAt">When the scan ran.</param>
public sealed record ErasureReport(KeyStatus? KeyStatus, DateTimeOffset? KeyDestroyedAt, bool Pseudonymous, IReadOnlyList<ErasureSourceReport> Sources, DateTimeOffset ScannedAt)
{
    /// <summary>True when the key is destroyed and no source holds anything linked to the user.</summary>
    public bool NothingLinked => KeyStatus == Privacy.KeyStatus.Forgotten && Sources.All(s => s.Matches == 0);
}

/// <summary>A place to search: yields the text/bytes of each item it holds.</summary>
public interface IErasureSource
{
    /// <summary>Name in the report.</summary>
    string Name { get; }

    /// <summary>Kind in the report.</summary>
    string Kind { get; }

    /// <summary>Every item, each as one or more byte blobs searched together.</summary>
    IAsyncEnumerable<IReadOnlyList<ReadOnlyMemory<byte>>> ItemsAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Proof of erasure (issue 11): checks the key table for the user's key and scans what the project stores — the stream
/// within retention (raw and decoded), aggregates, the on-failure destination, checkpoints and window states, the key
/// table — for the user id, their pseudonym, their key id (outside its tombstone) and known personal values.
/// </summary>
public sealed class ErasureVerifier
{
    private readonly PrivacyRuntime _privacy;
    private readonly TimeProvider _time;

    /// <summary>Creates the verifier over the privacy runtime the writers use (same key table and master key).</summary>
    public ErasureVerifier(PrivacyRuntime privacy, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(privacy);
        _privacy = privacy;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Checks the key and scans every source.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="knownValues">Personal values of the user to look for (e.g. their e-mail).</param>
    /// <param name="knownPseudonym">The user's pseudonym if recorded before the forget (afterwards nobody can compute it).</param>
    /// <param name="sources">Where to look.</param>
    /// <param name="cancellationToken">Cancels the scan.</param>
    public async Task<ErasureReport> VerifyAsync(string userId, IEnumerable<string> knownValues, string? knownPseudonym, IEnumerable<IErasureSource> sources, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(userId);
        ArgumentNullException.ThrowIfNull(knownValues);
        ArgumentNullException.ThrowIfNull(sources);
        var needles = new List<ErasureNeedle> { new("userId", userId) };
        string keyRow = userId;
        if (_privacy.Identity is { } identity)
        {
            keyRow = await identity.KeyIdOfAsync(userId, cancellationToken).ConfigureAwait(false);
            if (await identity.FindPseudonymAsync(userId, cancellationToken).ConfigureAwait(false) is { } live)
            {
                needles.Add(new ErasureNeedle("pseudonym", live));
            }
        }

        if (knownPseudonym is { Length: > 0 } && needles.All(n => n.Value != knownPseudonym))
        {
            needles.Add(new ErasureNeedle("pseudonym", knownPseudonym));
        }

        needles.AddRange(knownValues.Where(v => !string.IsNullOrEmpty(v)).Select((v, i) => new ErasureNeedle($"value#{i + 1}", v)));
        var record = await _privacy.KeyStore.GetAsync(keyRow, cancellationToken).ConfigureAwait(false);

        var reports = new List<ErasureSourceReport>();
        foreach (var source in sources)
        {
            reports.Add(await ScanAsync(source, needles, cancellationToken).ConfigureAwait(false));
        }

        return new ErasureReport(record?.Status, record?.Status == KeyStatus.Forgotten ? record.ForgottenAt : null, _privacy.Identity is not null, reports, _time.GetUtcNow());
    }

    /// <summary>Scans one source for the needles.</summary>
    public static async Task<ErasureSourceReport> ScanAsync(IErasureSource source, IReadOnlyList<ErasureNeedle> needles, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(needles);
        var encoded = needles.Select(n => (n.Label, Bytes: Encoding.UTF8.GetBytes(n.Value))).ToList();
        long items = 0, matches = 0;
        var labels = new SortedSet<string>(StringComparer.Ordinal);
        await foreach (var blobs in source.ItemsAsync(cancellationToken).ConfigureAwait(false))
        {
            items++;
            bool hit = false;
            foreach (var (label, bytes) in encoded)
            {
                if (blobs.Any(b => b.Span.IndexOf(bytes) >= 0))
                {
                    labels.Add(label);
                    hit = true;
                }
            }

            matches += hit ? 1 : 0;
        }

        return new ErasureSourceReport(source.Name, source.Kind, items, matches, [.. labels]);
    }
}

/// <summary>Every attribute of every item of a DynamoDB table (strings, numbers, binaries, sets, nested maps and lists).</summary>
/// <param name="dynamo">The client.</param>
/// <param name="table">The table.</param>
/// <param name="kind">Kind in the report (e.g. <c>aggregates</c>, <c>on-failure</c>, <c>key table</c>).</param>
/// <param name="skipKey">Items whose partition key attribute (any attribute) equals this are skipped (e.g. the tombstone row).</param>
public sealed class DynamoDbTableSource(IAmazonDynamoDB dynamo, string table, string kind, string? skipKey = null) : IErasureSource
{
    /// <inheritdoc />
    public string Name => table;

    /// <inheritdoc />
    public string Kind => kind;

    /// <inheritdoc />
    public async IAsyncEnumerable<IReadOnlyList<ReadOnlyMemory<byte>>> ItemsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Dictionary<string, AttributeValue>? start = null;
        do
        {
            ScanResponse page;
            try
            {
                page = await dynamo.ScanAsync(new ScanRequest { TableName = table, ConsistentRead = true, ExclusiveStartKey = start }, cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceNotFoundException)
            {
                yield break; // nothing stored there
            }

            foreach (var item in page.Items ?? [])
            {
                if (skipKey is not null && item.Values.Any(v => v.S == skipKey))
                {
                    continue;
                }

                var blobs = new List<ReadOnlyMemory<byte>>();
                foreach (var (name, value) in item)
                {
                    blobs.Add(Encoding.UTF8.GetBytes(name));
                    Append(value, blobs);
                }

                yield return blobs;
            }

            start = page.LastEvaluatedKey is { Count: > 0 } next ? next : null;
        }
        while (start is not null);
    }

    private static void Append(AttributeValue v, List<ReadOnlyMemory<byte>> blobs)
    {
        if (v.S is not null)
        {
            blobs.Add(Encoding.UTF8.GetBytes(v.S));
        }

        if (v.N is not null)
        {
            blobs.Add(Encoding.UTF8.GetBytes(v.N));
        }

        if (v.B is not null)
        {
            blobs.Add(v.B.ToArray());
        }

        foreach (var x in (v.SS ?? []).Concat(v.NS ?? []))
        {
            blobs.Add(Encoding.UTF8.GetBytes(x));
        }

        foreach (var b in v.BS ?? [])
        {
            blobs.Add(b.ToArray());
        }

        foreach (var (name, nested) in v.M ?? [])
        {
            blobs.Add(Encoding.UTF8.GetBytes(name));
            Append(nested, blobs);
        }

        foreach (var nested in v.L ?? [])
        {
            Append(nested, blobs);
        }
    }
}

/// <summary>Every record of a Kinesis stream within retention: raw bytes, partition key, and each decoded user record.</summary>
/// <param name="kinesis">The AWS SDK client.</param>
/// <param name="stream">The stream.</param>
public sealed class KinesisStreamSource(IAmazonKinesis kinesis, string stream) : IErasureSource
{
    /// <inheritdoc />
    public string Name => stream;

    /// <inheritdoc />
    public string Kind => "stream";

    /// <inheritdoc />
    public async IAsyncEnumerable<IReadOnlyList<ReadOnlyMemory<byte>>> ItemsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? next = null;
        var shards = new List<string>();
        do
        {
            var page = await kinesis.ListShardsAsync(next is null ? new Amazon.Kinesis.Model.ListShardsRequest { StreamName = stream } : new Amazon.Kinesis.Model.ListShardsRequest { NextToken = next }, cancellationToken).ConfigureAwait(false);
            shards.AddRange((page.Shards ?? []).Select(s => s.ShardId));
            next = page.NextToken;
        }
        while (next is not null);

        foreach (var shard in shards)
        {
            var iterator = (await kinesis.GetShardIteratorAsync(new Amazon.Kinesis.Model.GetShardIteratorRequest { StreamName = stream, ShardId = shard, ShardIteratorType = ShardIteratorType.TRIM_HORIZON }, cancellationToken).ConfigureAwait(false)).ShardIterator;
            while (iterator is not null)
            {
                var page = await kinesis.GetRecordsAsync(new Amazon.Kinesis.Model.GetRecordsRequest { ShardIterator = iterator, Limit = 10_000 }, cancellationToken).ConfigureAwait(false);
                foreach (var record in page.Records ?? [])
                {
                    var data = record.Data.ToArray();
                    var blobs = new List<ReadOnlyMemory<byte>> { data, Encoding.UTF8.GetBytes(record.PartitionKey ?? "") };
                    try
                    {
                        blobs.AddRange(RecordDecoder.Default.Decode(data, record.PartitionKey ?? "", record.SequenceNumber).SelectMany(u => new[] { u.Data, Encoding.UTF8.GetBytes(u.PartitionKey ?? "") }));
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // An undecodable record is still searched raw.
                    }

                    yield return blobs;
                }

                iterator = (page.Records?.Count ?? 0) == 0 && (page.MillisBehindLatest ?? 0) == 0 ? null : page.NextShardIterator;
            }
        }
    }
}

/// <summary>Items given by a function (e.g. window states read back through a checkpoint store).</summary>
/// <param name="name">Name in the report.</param>
/// <param name="kind">Kind in the report.</param>
/// <param name="items">The items' texts.</param>
public sealed class TextSource(string name, string kind, Func<CancellationToken, Task<IReadOnlyList<string>>> items) : IErasureSource
{
    /// <inheritdoc />
    public string Name => name;

    /// <inheritdoc />
    public string Kind => kind;

    /// <inheritdoc />
    public async IAsyncEnumerable<IReadOnlyList<ReadOnlyMemory<byte>>> ItemsAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var text in await items(cancellationToken).ConfigureAwait(false))
        {
            yield return [Encoding.UTF8.GetBytes(text)];
        }
    }
}
