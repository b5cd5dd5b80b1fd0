using System.Globalization;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Kinesis;
using Cloud.Testing;
using Record = Amazon.Kinesis.Model.Record;
using static Cloud.IntegrationTests.Kinesis.KinesisTestSupport;

namespace Cloud.IntegrationTests.Kinesis;

/// <summary>
/// Every Kinesis operation the project uses, through AWS's own <see cref="AmazonKinesisClient"/> against the real
/// emulator (kinesis-local by default), plus the kept helpers (ListAllShards, ListAllStreams, WaitForStreamActive,
/// ShardMap) and the error vocabulary on the SDK's real exceptions. docs/client.md lists which test verifies what.
/// </summary>
[Collection(EmulatorCollection.Name)]
public sealed class KinesisClientIntegrationTests(EmulatorFixture fixture) : IDisposable
{
    private readonly AmazonKinesisClient _client = CreateClient(fixture);

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Stream_lifecycle_create_describe_list_delete()
    {
        var name = EmulatorFixture.UniqueName("life");
        var summary = await CreateActiveStreamAsync(_client, name, shards: 2);

        Assert.Equal(name, summary.StreamName);
        Assert.Equal(StreamStatus.ACTIVE, summary.StreamStatus);
        Assert.Equal(2, summary.OpenShardCount);
        Assert.Equal(StreamMode.PROVISIONED, summary.StreamModeDetails?.StreamMode);
        Assert.Equal(24, summary.RetentionPeriodHours);
        Assert.EndsWith(":stream/" + name, summary.StreamARN, StringComparison.Ordinal);
        Assert.NotNull(summary.StreamCreationTimestamp);

        var byArn = await _client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamARN = summary.StreamARN });
        Assert.Equal(name, byArn.StreamDescriptionSummary.StreamName);

        var names = new List<string>();
        ListStreamsResponse page = await _client.ListStreamsAsync(new ListStreamsRequest { Limit = 1 });
        names.AddRange(page.StreamNames);
        for (var i = 0; i < 200 && page.HasMoreStreams == true; i++)
        {
            page = await _client.ListStreamsAsync(new ListStreamsRequest { Limit = 1, ExclusiveStartStreamName = page.StreamNames[^1] });
            names.AddRange(page.StreamNames);
        }

        Assert.Contains(name, names);
        var all = await _client.ListAllStreamsAsync();
        Assert.Contains(name, all);
        Assert.Equal(all.Count, all.Distinct().Count());

        var ex = await Assert.ThrowsAsync<ResourceInUseException>(() => _client.CreateStreamAsync(new CreateStreamRequest { StreamName = name, ShardCount = 1 }));
        Assert.Equal(KinesisErrorCause.ResourceInUse, KinesisErrors.Classify(ex).Cause);

        await _client.DeleteStreamAsync(new DeleteStreamRequest { StreamName = name });
        await WaitUntilGoneAsync(name);
    }

    [Fact]
    public async Task On_demand_stream_accepts_writes_and_reads()
    {
        var name = EmulatorFixture.UniqueName("ondemand");
        try
        {
            var summary = await CreateActiveStreamAsync(_client, name, shards: null, mode: new StreamModeDetails { StreamMode = StreamMode.ON_DEMAND });
            Assert.Equal(StreamMode.ON_DEMAND, summary.StreamModeDetails?.StreamMode);
            Assert.True(summary.OpenShardCount > 0);

            var put = await _client.PutRecordAsync(new PutRecordRequest { StreamName = name, Data = Bytes("hello"), PartitionKey = "user-1" });
            var record = (await ReadAllAsync(_client, name, put.ShardId)).Single(r => r.SequenceNumber == put.SequenceNumber);
            Assert.Equal("hello", Text(record));
        }
        finally
        {
            await DeleteQuietlyAsync(_client, name);
        }
    }

    [Fact]
    public async Task PutRecord_and_PutRecords_round_trip_through_every_iterator_type()
    {
        var name = EmulatorFixture.UniqueName("io");
        try
        {
            await CreateActiveStreamAsync(_client, name, shards: 1);
            var shardId = (await _client.ListAllShardsAsync(name)).Single().ShardId;
            var before = DateTime.UtcNow.AddSeconds(-5);

            var first = await _client.PutRecordAsync(new PutRecordRequest { StreamName = name, Data = Bytes([0, 1, 2, 255]), PartitionKey = "a" });
            var ordered = await _client.PutRecordAsync(new PutRecordRequest
            {
                StreamName = name, Data = Bytes("second"), PartitionKey = "a", SequenceNumberForOrdering = first.SequenceNumber,
            });
            var batch = await _client.PutRecordsAsync(new PutRecordsRequest
            {
                StreamName = name,
                Records = [.. Enumerable.Range(0, 500).Select(i => new PutRecordsRequestEntry { Data = Bytes($"r{i}:" + new string('x', 190)), PartitionKey = $"pk-{i}" })],
            });

            Assert.Equal(shardId, first.ShardId);
            Assert.Equal(0, batch.FailedRecordCount);
            Assert.Equal(500, batch.Records.Count);
            Assert.All(batch.Records, r => Assert.Equal(shardId, r.ShardId));

            var all = await ReadAllAsync(_client, name, shardId);
            Assert.Equal(502, all.Count);
            Assert.Equal(new byte[] { 0, 1, 2, 255 }, all[0].Data.ToArray());
            Assert.Equal("second", Text(all[1]));
            Assert.Equal(batch.Records.Select(r => r.SequenceNumber), all.Skip(2).Select(r => r.SequenceNumber));
            Assert.Equal("r499:", Text(all[^1])[..5]);
            Assert.All(all, r => Assert.InRange(r.ApproximateArrivalTimestamp!.Value.ToUniversalTime(), before, DateTime.UtcNow.AddSeconds(5)));

            async Task<IReadOnlyList<Record>> ReadFrom(GetShardIteratorRequest request)
            {
                var iterator = (await _client.GetShardIteratorAsync(request)).ShardIterator;
                return (await _client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator, Limit = 3 })).Records;
            }

            var at = await ReadFrom(new GetShardIteratorRequest { StreamName = name, ShardId = shardId, ShardIteratorType = ShardIteratorType.AT_SEQUENCE_NUMBER, StartingSequenceNumber = ordered.SequenceNumber });
            Assert.Equal(ordered.SequenceNumber, at[0].SequenceNumber);
            var after = await ReadFrom(new GetShardIteratorRequest { StreamName = name, ShardId = shardId, ShardIteratorType = ShardIteratorType.AFTER_SEQUENCE_NUMBER, StartingSequenceNumber = ordered.SequenceNumber });
            Assert.Equal(batch.Records[0].SequenceNumber, after[0].SequenceNumber);
            var fromTime = await ReadFrom(new GetShardIteratorRequest { StreamName = name, ShardId = shardId, ShardIteratorType = ShardIteratorType.AT_TIMESTAMP, Timestamp = before });
            Assert.Equal(first.SequenceNumber, fromTime[0].SequenceNumber);
            var horizon = await ReadFrom(new GetShardIteratorRequest { StreamName = name, ShardId = shardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON });
            Assert.Equal(3, horizon.Count);

            var latestIterator = (await _client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = name, ShardId = shardId, ShardIteratorType = ShardIteratorType.LATEST })).ShardIterator;
            Assert.Empty((await _client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = latestIterator })).Records);
            var late = await _client.PutRecordAsync(new PutRecordRequest { StreamName = name, Data = Bytes("late"), PartitionKey = "z" });
            var afterLatest = await _client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = latestIterator });
            Assert.Equal(late.SequenceNumber, Assert.Single(afterLatest.Records).SequenceNumber);
        }
        finally
        {
            await DeleteQuietlyAsync(_client, name);
        }
    }

    [Fact]
    public async Task Records_land_in_the_shard_whose_hash_range_holds_their_key()
    {
        var name = EmulatorFixture.UniqueName("route");
        try
        {
            await CreateActiveStreamAsync(_client, name, shards: 4);
            var shards = await _client.ListAllShardsAsync(name);
            var batch = await _client.PutRecordsAsync(new PutRecordsRequest
            {
                StreamName = name,
                Records =
                [
                    .. Enumerable.Range(0, 40).Select(i => new PutRecordsRequestEntry { Data = Bytes([(byte)i]), PartitionKey = $"key-{i}" }),
                    // ExplicitHashKey overrides the key's hash: the top of the space belongs to the last shard.
                    new PutRecordsRequestEntry { Data = Bytes([99]), PartitionKey = "key-0", ExplicitHashKey = "340282366920938463463374607431768211455" },
                ],
            });

            for (var i = 0; i < 40; i++)
            {
                var expected = shards.Single(s => Contains(s, HashOf($"key-{i}")));
                Assert.Equal(expected.ShardId, batch.Records[i].ShardId);
            }

            Assert.Equal(shards.Single(s => Contains(s, UInt128.MaxValue)).ShardId, batch.Records[40].ShardId);
        }
        finally
        {
            await DeleteQuietlyAsync(_client, name);
        }
    }

    [Fact]
    public async Task ListShards_pages_and_filters()
    {
        var name = EmulatorFixture.UniqueName("pages");
        try
        {
            await CreateActiveStreamAsync(_client, name, shards: 5);

            var first = await _client.ListShardsAsync(new ListShardsRequest { StreamName = name, MaxResults = 2 });
            Assert.Equal(2, first.Shards.Count);
            Assert.NotNull(first.NextToken);
            var second = await _client.ListShardsAsync(new ListShardsRequest { NextToken = first.NextToken, MaxResults = 2 }); // later pages: the token only
            Assert.Equal(2, second.Shards.Count);

            var all = await ListPagesAsync(new ListShardsRequest { StreamName = name, MaxResults = 2 });
            Assert.Equal(5, all.Count);
            Assert.Equal(5, all.Select(s => s.ShardId).Distinct().Count());
            Assert.Equal(first.Shards.Concat(second.Shards).Select(s => s.ShardId), all.Take(4).Select(s => s.ShardId));
            Assert.Equal(all.Select(s => s.ShardId), (await _client.ListAllShardsAsync(name)).Select(s => s.ShardId));

            var afterSecond = await ListPagesAsync(new ListShardsRequest { StreamName = name, ExclusiveStartShardId = all[1].ShardId });
            Assert.Equal(all.Skip(2).Select(s => s.ShardId), afterSecond.Select(s => s.ShardId));

            var filtered = await _client.ListAllShardsAsync(name, new ShardFilter { Type = ShardFilterType.AFTER_SHARD_ID, ShardId = all[2].ShardId });
            Assert.Equal(all.Skip(3).Select(s => s.ShardId), filtered.Select(s => s.ShardId));

            foreach (var type in new[] { ShardFilterType.AT_TRIM_HORIZON, ShardFilterType.FROM_TRIM_HORIZON, ShardFilterType.AT_LATEST })
            {
                var open = await _client.ListAllShardsAsync(name, new ShardFilter { Type = type });
                Assert.Equal(5, open.Count);
            }

            var byTime = await _client.ListAllShardsAsync(name, new ShardFilter { Type = ShardFilterType.AT_TIMESTAMP, Timestamp = DateTime.UtcNow });
            Assert.Equal(5, byTime.Count);

            // Hash ranges tile the whole 128-bit space (read them from ListShards; emulators differ from AWS by one).
            var sorted = all.OrderBy(s => UInt128.Parse(s.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture)).ToList();
            Assert.Equal("0", sorted[0].HashKeyRange.StartingHashKey);
            Assert.Equal(UInt128.MaxValue.ToString(CultureInfo.InvariantCulture), sorted[^1].HashKeyRange.EndingHashKey);
        }
        finally
        {
            await DeleteQuietlyAsync(_client, name);
        }
    }

    [Fact]
    public async Task Split_merge_and_UpdateShardCount_reshard_the_stream()
    {
        var name = EmulatorFixture.UniqueName("reshard");
        try
        {
            await CreateActiveStreamAsync(_client, name, shards: 2);
            var parents = await _client.ListAllShardsAsync(name);
            var parent = parents[0];
            var before = await _client.PutRecordAsync(new PutRecordRequest { StreamName = name, Data = Bytes("before-split"), PartitionKey = "x", ExplicitHashKey = parent.HashKeyRange.StartingHashKey });

            var start = UInt128.Parse(parent.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture);
            var end = UInt128.Parse(parent.HashKeyRange.EndingHashKey, CultureInfo.InvariantCulture);
            var middle = start + ((end - start) / 2);
            await _client.SplitShardAsync(new SplitShardRequest { StreamName = name, ShardToSplit = parent.ShardId, NewStartingHashKey = middle.ToString(CultureInfo.InvariantCulture) });
            await _client.WaitForStreamActiveAsync(name, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));

            var afterSplit = await _client.ListAllShardsAsync(name);
            var children = afterSplit.Where(s => s.ParentShardId == parent.ShardId).ToList();
            Assert.Equal(2, children.Count);
            Assert.Contains(children, c => c.HashKeyRange.StartingHashKey == middle.ToString(CultureInfo.InvariantCulture));
            Assert.NotNull(afterSplit.Single(s => s.ShardId == parent.ShardId).SequenceNumberRange.EndingSequenceNumber);

            // The closed parent reads to its end: no next iterator, and the children are announced.
            var iterator = (await _client.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = name, ShardId = parent.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON })).ShardIterator;
            GetRecordsResponse page;
            var seen = new List<Record>();
            var guard = 0;
            do
            {
                page = await _client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator });
                seen.AddRange(page.Records);
                iterator = page.NextShardIterator!;
            }
            while (page.NextShardIterator is not null && ++guard < 20);
            Assert.Null(page.NextShardIterator);
            Assert.Equal(before.SequenceNumber, Assert.Single(seen).SequenceNumber);
            Assert.Equal(children.Select(c => c.ShardId).Order(), page.ChildShards!.Select(c => c.ShardId).Order());

            // Merge the two children back.
            var ordered = children.OrderBy(c => UInt128.Parse(c.HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture)).ToList();
            await _client.MergeShardsAsync(new MergeShardsRequest { StreamName = name, ShardToMerge = ordered[0].ShardId, AdjacentShardToMerge = ordered[1].ShardId });
            await _client.WaitForStreamActiveAsync(name, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            var afterMerge = await _client.ListAllShardsAsync(name);
            var merged = Assert.Single(afterMerge, s => s.ParentShardId == ordered[0].ShardId);
            Assert.Equal(ordered[1].ShardId, merged.AdjacentParentShardId);

            // Uniform rescale 2 → 4.
            var update = await _client.UpdateShardCountAsync(new UpdateShardCountRequest { StreamName = name, TargetShardCount = 4, ScalingType = ScalingType.UNIFORM_SCALING });
            Assert.Equal(2, update.CurrentShardCount);
            Assert.Equal(4, update.TargetShardCount);
            var summary = await _client.WaitForStreamActiveAsync(name, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            Assert.Equal(4, summary.OpenShardCount);
            var open = await _client.ListAllShardsAsync(name, new ShardFilter { Type = ShardFilterType.AT_LATEST });
            Assert.Equal(4, open.Count);
            var map = await _client.GetShardMapAsync(name);
            Assert.Equal(open.Select(s => s.ShardId).Order(StringComparer.Ordinal), map.Ranges.Select(r => r.ShardId).Order(StringComparer.Ordinal));
            var routed = await _client.PutRecordAsync(new PutRecordRequest { StreamName = name, Data = Bytes("routed"), PartitionKey = "any-key" });
            Assert.Equal(routed.ShardId, map.Find(HashOf("any-key")).ShardId);
        }
        finally
        {
            await DeleteQuietlyAsync(_client, name);
        }
    }

    [Fact]
    public async Task Retention_encryption_and_tags_are_applied()
    {
        var name = EmulatorFixture.UniqueName("settings");
        try
        {
            await CreateActiveStreamAsync(_client, name, shards: 1);

            await _client.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 168 });
            Assert.Equal(168, (await _client.WaitForStreamActiveAsync(name)).RetentionPeriodHours);
            await _client.DecreaseStreamRetentionPeriodAsync(new DecreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 48 });
            Assert.Equal(48, (await _client.WaitForStreamActiveAsync(name)).RetentionPeriodHours);

            // Increasing to a lower value is the service's InvalidArgumentException.
            var invalid = await Assert.ThrowsAsync<InvalidArgumentException>(() =>
                _client.IncreaseStreamRetentionPeriodAsync(new IncreaseStreamRetentionPeriodRequest { StreamName = name, RetentionPeriodHours = 24 }));
            Assert.Equal("InvalidArgumentException", invalid.ErrorCode);

            await _client.StartStreamEncryptionAsync(new StartStreamEncryptionRequest { StreamName = name, EncryptionType = EncryptionType.KMS, KeyId = "alias/aws/kinesis" });
            var encrypted = await _client.WaitForStreamActiveAsync(name, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
            Assert.Equal(EncryptionType.KMS, encrypted.EncryptionType);
            Assert.Equal("alias/aws/kinesis", encrypted.KeyId);
            var put = await _client.PutRecordAsync(new PutRecordRequest { StreamName = name, Data = Bytes("secret"), PartitionKey = "k" });
            Assert.Equal(EncryptionType.KMS, put.EncryptionType);

            await _client.AddTagsToStreamAsync(new AddTagsToStreamRequest { StreamName = name, Tags = new Dictionary<string, string> { ["team"] = "data", ["env"] = "test" } });
            await _client.AddTagsToStreamAsync(new AddTagsToStreamRequest { StreamName = name, Tags = new Dictionary<string, string> { ["env"] = "prod" } });
            var tags = await _client.ListTagsForStreamAsync(new ListTagsForStreamRequest { StreamName = name });
            Assert.Equal([("env", "prod"), ("team", "data")], tags.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, t.Value)));
        }
        finally
        {
            await DeleteQuietlyAsync(_client, name);
        }
    }

    [Fact]
    public async Task Enhanced_fan_out_consumers_register_list_and_deregister()
    {
        var name = EmulatorFixture.UniqueName("efo");
        try
        {
            var stream = await CreateActiveStreamAsync(_client, name, shards: 1);
            var registered = await _client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = stream.StreamARN, ConsumerName = "reader-a" });
            await _client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = stream.StreamARN, ConsumerName = "reader-b" });
            var duplicate = await Assert.ThrowsAsync<ResourceInUseException>(() =>
                _client.RegisterStreamConsumerAsync(new RegisterStreamConsumerRequest { StreamARN = stream.StreamARN, ConsumerName = "reader-b" }));
            Assert.Equal(KinesisErrorCause.ResourceInUse, KinesisErrors.Classify(duplicate).Cause);
            Assert.Equal("reader-a", registered.Consumer.ConsumerName);
            Assert.Contains("reader-a", registered.Consumer.ConsumerARN, StringComparison.Ordinal);

            var consumers = await ListConsumersAsync(stream.StreamARN);
            Assert.Equal(["reader-a", "reader-b"], consumers.Select(c => c.ConsumerName).Order());

            await _client.DeregisterStreamConsumerAsync(new DeregisterStreamConsumerRequest { ConsumerARN = registered.Consumer.ConsumerARN });
            await _client.DeregisterStreamConsumerAsync(new DeregisterStreamConsumerRequest { StreamARN = stream.StreamARN, ConsumerName = "reader-b" });
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((await ListConsumersAsync(stream.StreamARN)).Any(c => c.ConsumerStatus != ConsumerStatus.DELETING) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }

            Assert.All(await ListConsumersAsync(stream.StreamARN), c => Assert.Equal(ConsumerStatus.DELETING, c.ConsumerStatus));
        }
        finally
        {
            await DeleteQuietlyAsync(_client, name);
        }
    }

    [Fact]
    public async Task Service_errors_map_to_typed_exceptions()
    {
        var missing = EmulatorFixture.UniqueName("missing");
        var notFound = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = missing }));
        Assert.Contains(missing, notFound.Message, StringComparison.Ordinal);
        Assert.Equal(new KinesisError(KinesisErrorKind.Permanent, KinesisErrorCause.NotFound, "ResourceNotFoundException"), KinesisErrors.Classify(notFound));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.PutRecordAsync(new PutRecordRequest { StreamName = missing, Data = Bytes([0]), PartitionKey = "k" }));
        var putRecords = await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.PutRecordsAsync(new PutRecordsRequest { StreamName = missing, Records = [new PutRecordsRequestEntry { Data = Bytes([0]), PartitionKey = "k" }] }));
        Assert.True(KinesisErrors.Classify(putRecords).IsPermanent);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.DeleteStreamAsync(new DeleteStreamRequest { StreamName = missing }));

        var name = EmulatorFixture.UniqueName("errors");
        try
        {
            await CreateActiveStreamAsync(_client, name, shards: 2);
            var shards = await _client.ListAllShardsAsync(name);
            var shard = shards[0];
            await Assert.ThrowsAsync<ResourceNotFoundException>(() => _client.GetShardIteratorAsync(new GetShardIteratorRequest
            {
                StreamName = name, ShardId = "shardId-000000000099", ShardIteratorType = ShardIteratorType.TRIM_HORIZON,
            }));

            // A split point inside the other shard's range: the service's InvalidArgumentException, permanent.
            var outside = await Assert.ThrowsAsync<InvalidArgumentException>(() => _client.SplitShardAsync(new SplitShardRequest
            {
                StreamName = name, ShardToSplit = shard.ShardId,
                NewStartingHashKey = (UInt128.Parse(shards[1].HashKeyRange.StartingHashKey, CultureInfo.InvariantCulture) + 5).ToString(CultureInfo.InvariantCulture),
            }));
            Assert.Equal(KinesisErrorCause.InvalidRequest, KinesisErrors.Classify(outside).Cause);

            var expired = ExpiredEmulatorIterator(name, shard.ShardId, shard.SequenceNumberRange.StartingSequenceNumber, DateTimeOffset.UtcNow);
            var ex = await Assert.ThrowsAsync<ExpiredIteratorException>(() => _client.GetRecordsAsync(new GetRecordsRequest { ShardIterator = expired }));
            Assert.Equal(new KinesisError(KinesisErrorKind.Retryable, KinesisErrorCause.Expired, "ExpiredIteratorException"), KinesisErrors.Classify(ex));
        }
        finally
        {
            await DeleteQuietlyAsync(_client, name);
        }
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_a_retryable_network_error()
    {
        // A loopback port nobody listens on: connection refused, retried by the SDK, then classified as network.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = KinesisClientFactory.Create(new KinesisConnectionOptions
        {
            ServiceUrl = new Uri($"http://127.0.0.1:{port}/"), Region = fixture.Region, Credentials = fixture.Credentials, MaxErrorRetry = 1,
        });

        var ex = await Assert.ThrowsAnyAsync<Exception>(() => client.ListStreamsAsync(new ListStreamsRequest()));

        Assert.Equal((KinesisErrorKind.Retryable, KinesisErrorCause.Network), (KinesisErrors.Classify(ex).Kind, KinesisErrors.Classify(ex).Cause));
    }

    /// <summary>Pages ListShards by hand (MaxResults, ExclusiveStartShardId) the way ListAllShardsAsync does with NextToken.</summary>
    private async Task<List<Shard>> ListPagesAsync(ListShardsRequest first)
    {
        var shards = new List<Shard>();
        var page = await _client.ListShardsAsync(first);
        shards.AddRange(page.Shards);
        for (var i = 0; i < 100 && !string.IsNullOrEmpty(page.NextToken); i++)
        {
            page = await _client.ListShardsAsync(new ListShardsRequest { NextToken = page.NextToken, MaxResults = first.MaxResults });
            shards.AddRange(page.Shards);
        }

        return shards;
    }

    private async Task<IReadOnlyList<Amazon.Kinesis.Model.Consumer>> ListConsumersAsync(string streamArn) =>
        // One page: kinesis-local 0.6.2 pages ListStreamConsumers wrongly (MaxResults=1 returns no token,
        // and a full page still carries one), so paging through it would test the emulator, not the client.
        (await _client.ListStreamConsumersAsync(new ListStreamConsumersRequest { StreamARN = streamArn })).Consumers;

    private async Task WaitUntilGoneAsync(string name)
    {
        for (var i = 0; i < 300; i++)
        {
            try
            {
                var status = (await _client.DescribeStreamSummaryAsync(new DescribeStreamSummaryRequest { StreamName = name })).StreamDescriptionSummary.StreamStatus;
                Assert.Equal(StreamStatus.DELETING, status);
            }
            catch (ResourceNotFoundException)
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"stream {name} was not deleted");
    }
}
