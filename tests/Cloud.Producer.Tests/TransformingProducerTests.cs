using System.Text;

namespace Cloud.Producer.Tests;

public class TransformingProducerTests
{
    [Fact]
    public async Task Transforms_run_in_order_and_the_inner_producer_gets_their_output()
    {
        var inner = new CapturingProducer();
        await using var producer = new TransformingProducer(inner, [new Upper(), new KeyFromFirstByte()]);
        var sent = await producer.SendAsync("abc"u8.ToArray(), explicitHashKey: "42");
        var queued = await producer.EnqueueAsync("xyz"u8.ToArray(), partitionKey: "given");
        await queued;

        Assert.Equal("shard-1", sent.ShardId);
        Assert.Equal([("ABC", "A", "42"), ("XYZ", "given", null)], inner.Sent);
        Assert.Equal(0, producer.BufferedRecords);
    }

    [Fact]
    public async Task A_dropped_record_reaches_nothing_and_is_reported_typed_or_as_null()
    {
        var inner = new CapturingProducer();
        await using var producer = new TransformingProducer(inner, [new DropEmpty(), new Upper()], ownsInner: false);
        var ex = await Assert.ThrowsAsync<RecordDroppedException>(() => producer.SendAsync(ReadOnlyMemory<byte>.Empty).AsTask());
        Assert.Equal(nameof(DropEmpty), ex.Transform);
        await Assert.ThrowsAsync<RecordDroppedException>(() => producer.EnqueueAsync(ReadOnlyMemory<byte>.Empty).AsTask());
        Assert.Null(await producer.TrySendAsync(ReadOnlyMemory<byte>.Empty));
        Assert.Null(await producer.TryEnqueueAsync(ReadOnlyMemory<byte>.Empty));
        Assert.Empty(inner.Sent);
        Assert.NotNull(await producer.TrySendAsync("a"u8.ToArray()));
        Assert.Single(inner.Sent);
    }

    [Fact]
    public async Task Disposing_disposes_the_inner_producer_only_when_owned()
    {
        var owned = new CapturingProducer();
        await new TransformingProducer(owned, [new Upper()]).DisposeAsync();
        Assert.True(owned.Disposed);
        var borrowed = new CapturingProducer();
        await new TransformingProducer(borrowed, [new Upper()], ownsInner: false).DisposeAsync();
        Assert.False(borrowed.Disposed);
        Assert.Throws<ArgumentException>(() => new TransformingProducer(borrowed, []));
    }

    private sealed class Upper : IProducerRecordTransform
    {
        public ValueTask<ProducerRecord?> TransformAsync(ReadOnlyMemory<byte> data, string? partitionKey, string? explicitHashKey, CancellationToken cancellationToken) =>
            ValueTask.FromResult<ProducerRecord?>(new ProducerRecord(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(data.Span).ToUpperInvariant()), partitionKey, explicitHashKey));
    }

    private sealed class KeyFromFirstByte : IProducerRecordTransform
    {
        public ValueTask<ProducerRecord?> TransformAsync(ReadOnlyMemory<byte> data, string? partitionKey, string? explicitHashKey, CancellationToken cancellationToken) =>
            ValueTask.FromResult<ProducerRecord?>(new ProducerRecord(data, partitionKey ?? ((char)data.Span[0]).ToString(), explicitHashKey));
    }

    private sealed class DropEmpty : IProducerRecordTransform
    {
        public ValueTask<ProducerRecord?> TransformAsync(ReadOnlyMemory<byte> data, string? partitionKey, string? explicitHashKey, CancellationToken cancellationToken) =>
            ValueTask.FromResult<ProducerRecord?>(data.IsEmpty ? null : new ProducerRecord(data, partitionKey ?? "k", explicitHashKey));
    }

    private sealed class CapturingProducer : IKinesisProducer
    {
        public List<(string Data, string? Key, string? Hash)> Sent { get; } = [];

        public bool Disposed { get; private set; }

        public int BufferedRecords => 0;

        public ValueTask<SendResult> SendAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default)
        {
            Sent.Add((Encoding.ASCII.GetString(data.Span), partitionKey, explicitHashKey));
            return ValueTask.FromResult(new SendResult("shard-1", Sent.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), null, 1));
        }

        public async ValueTask<Task<SendResult>> EnqueueAsync(ReadOnlyMemory<byte> data, string? partitionKey = null, string? explicitHashKey = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(await SendAsync(data, partitionKey, explicitHashKey, cancellationToken));

        public Task FlushAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
