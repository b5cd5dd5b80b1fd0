using System.Globalization;
using System.Text;
using System.Text.Json;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;
using CsCheck;
using static Cloud.Functions.Tests.Aggregator.AggregatorTestData;

namespace Cloud.Functions.Tests.Aggregator;

public class WindowAggregatorTests
{
    private static readonly AggregatorConfig Config = new() { TableName = "agg" };

    private static async Task<Dictionary<string, AggregateResult>> ReadAll(FakeDynamoDb fake, Amazon.DynamoDBv2.IAmazonDynamoDB client) =>
        (await AggregatesTable.ScanAsync(client, "agg")).ToDictionary(r => r.Key);

    private static void AssertMatches(IEnumerable<Ev> events, IReadOnlyDictionary<string, AggregateResult> actual)
    {
        var expected = Expected(events);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach ((string user, var e) in expected)
        {
            AggregateResult a = actual[user];
            Assert.Equal(e.Count, a.Count);
            if (e.N == 0)
            {
                Assert.False(a.Fields.ContainsKey("amount"));
            }
            else
            {
                FieldStats f = a.Fields["amount"];
                Assert.Equal((e.Sum, e.Min, e.Max, e.N), (f.Sum, f.Min, f.Max, f.Count));
            }

            if (!a.TopApproximate)
            {
                Assert.Equal(e.Pages.OrderBy(p => p.Key, StringComparer.Ordinal), a.Top.OrderBy(p => p.Key, StringComparer.Ordinal));
            }
        }
    }

    /// <summary>Runs events through the function as several invokes, carrying state as Lambda does (via JSON).</summary>
    private static async Task<IReadOnlyDictionary<string, string>> RunWindow(Function f, IReadOnlyList<KinesisEventRecord> records, int[] cuts, bool final = true, IReadOnlyDictionary<string, string>? state = null, int budget = 0)
    {
        int start = 0;
        foreach (int end in cuts.Append(records.Count))
        {
            KinesisTimeWindowResponse r = await Invoke(f, AggregatorTestData.Invoke(records.Skip(start).Take(end - start).ToList(), state));
            Assert.Empty(r.BatchItemFailures);
            if (budget > 0)
            {
                Assert.True(JsonSerializer.SerializeToUtf8Bytes(r, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse).Length <= budget, "returned state over budget");
            }

            state = r.State;
            start = end;
        }

        if (final)
        {
            KinesisTimeWindowResponse r = await Invoke(f, AggregatorTestData.Invoke([], state, final: true));
            Assert.Empty(r.State);
        }

        return state!;
    }

    private static async Task<KinesisTimeWindowResponse> Invoke(Function f, KinesisTimeWindowEvent evt)
    {
        using var input = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(evt, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent));
        using Stream output = await f.FunctionHandler(input);
        return JsonSerializer.Deserialize(output, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse)!;
    }

    private static readonly string?[] Pages = ["/", "/cart", "/products/shoes", "/help", "/a b:c|d,e%", "/ü🙂", null];

    private static readonly Gen<Ev> EventGen =
        from user in Gen.Int[0, 30]
        from amount in Gen.Int[-500, 100_000]
        from hasAmount in Gen.Int[0, 4]
        from page in Gen.Int[0, 6]
        select new Ev("u-" + user.ToString("D3", CultureInfo.InvariantCulture), hasAmount == 0 ? null : amount / 100m, Pages![page]);

    [Fact]
    public void Any_split_of_a_window_into_invokes_gives_the_independent_aggregates()
    {
        Gen.Select(EventGen.Array[1, 120], Gen.Int[0, 119].Array[0, 4]).Sample(t =>
        {
            var (events, rawCuts) = t;
            int[] cuts = rawCuts.Where(c => c < events.Length).Distinct().Order().ToArray();
            var (client, fake) = FakeDynamoDb.Create();
            var f = new Function(Config, client);
            var records = events.Select((e, i) => Record(i, e)).ToList();
            RunWindow(f, records, cuts).GetAwaiter().GetResult();
            AssertMatches(events, ReadAll(fake, client).GetAwaiter().GetResult());
        }, iter: 300);
    }

    [Fact]
    public async Task A_retried_final_invoke_does_not_double_count()
    {
        var (client, fake) = FakeDynamoDb.Create();
        var f = new Function(Config, client);
        Ev[] events = [new("u-1", 10m, "/"), new("u-1", 5.5m, "/cart"), new("u-2", 1m, "/")];
        IReadOnlyDictionary<string, string> state = await RunWindow(f, events.Select((e, i) => Record(i, e)).ToList(), [], final: false);

        KinesisTimeWindowEvent final = AggregatorTestData.Invoke([], state, final: true);
        await Invoke(f, final);
        int puts = fake.Puts;
        await Invoke(f, final); // Lambda retries the final invoke (e.g. the first response was lost)
        Assert.Equal(puts, fake.Puts);
        AssertMatches(events, await ReadAll(fake, client));
    }

    [Fact]
    public async Task Two_shards_add_up_in_one_item_per_key_and_window()
    {
        var (client, fake) = FakeDynamoDb.Create();
        var f = new Function(Config, client);
        Ev[] a = [new("u-1", 10m, "/"), new("u-2", 1m, "/x")];
        Ev[] b = [new("u-1", 2m, "/"), new("u-3", 3m, null)];
        foreach ((Ev[] evs, string shard) in new[] { (a, "shardId-000000000001"), (b, "shardId-000000000002") })
        {
            var r = await Invoke(f, AggregatorTestData.Invoke(evs.Select((e, i) => Record(i, e, shard)).ToList(), null, final: true, shard: shard));
            Assert.Empty(r.BatchItemFailures);
        }

        var all = await ReadAll(fake, client);
        AssertMatches(a.Concat(b), all);
        Assert.Equal(2, all["u-1"].Contributions.Count);
    }

    [Fact]
    public async Task A_bad_record_fails_the_invoke_from_its_first_record_and_returns_the_incoming_state_unchanged()
    {
        var (client, fake) = FakeDynamoDb.Create();
        var f = new Function(Config, client);
        var records = new List<KinesisEventRecord>
        {
            Record(20, new Ev("u-1", 1m, "/")),
            Record(21, new Ev("u-2", 2m, "/")),
            Record(22, Encoding.UTF8.GetBytes("{\"userId\":\"u-1\",\"amount\":\"NaN-text\"}")),
            Record(23, new Ev("u-1", 4m, "/")),
        };
        IReadOnlyDictionary<string, string> incoming = await RunWindow(f, [Record(10, new Ev("u-9", 9m, "/"))], [], final: false);

        KinesisTimeWindowResponse r = await Invoke(f, AggregatorTestData.Invoke(records, incoming));

        // Whichever state Lambda passes on the retry (the returned one or the incoming one), it is the same, and the
        // retry replays the whole batch against it: nothing is checkpointed past a record whose effect is not in it.
        Assert.Equal(Seq(20), Assert.Single(r.BatchItemFailures).ItemIdentifier);
        Assert.Equal(incoming.OrderBy(e => e.Key, StringComparer.Ordinal), r.State.OrderBy(e => e.Key, StringComparer.Ordinal));

        // Bisect or the on-failure destination takes the bad record out upstream; the rest replays against the same state.
        KinesisTimeWindowResponse r2 = await Invoke(f, AggregatorTestData.Invoke([records[0], records[1], records[3]], r.State, final: false));
        Assert.Empty(r2.BatchItemFailures);
        await RunWindow(f, [], [], final: true, state: r2.State);
        AssertMatches([new("u-9", 9m, "/"), new("u-1", 1m, "/"), new("u-2", 2m, "/"), new("u-1", 4m, "/")], await ReadAll(fake, client));
    }

    /// <summary>Which state Lambda passes to the retry after a failed window invoke: AWS's documentation does not say.</summary>
    public enum RetryState
    {
        /// <summary>The state the failed invoke returned.</summary>
        Returned,

        /// <summary>The state the failed invoke received.</summary>
        Incoming,
    }

    [Theory]
    [InlineData(RetryState.Returned, true)]
    [InlineData(RetryState.Incoming, true)]
    [InlineData(RetryState.Returned, false)]
    [InlineData(RetryState.Incoming, false)]
    public async Task Under_either_reading_of_the_retry_state_every_good_record_counts_exactly_once(RetryState reading, bool bisect)
    {
        var (client, fake) = FakeDynamoDb.Create();
        var f = new Function(Config, client);
        var events = new Dictionary<string, Ev>(StringComparer.Ordinal);
        var records = new List<KinesisEventRecord>();
        var bad = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 160; i++)
        {
            if (i is 17 or 61 or 62 or 120)
            {
                records.Add(Record(i, Encoding.UTF8.GetBytes("{\"userId\":\"u-x\",\"amount\":\"oops\"}")));
                bad.Add(Seq(i));
                continue;
            }
            var e = new Ev("u-" + (i % 13).ToString("D2", CultureInfo.InvariantCulture), i * 1.25m, i % 3 == 0 ? "/cart" : "/");
            events[Seq(i)] = e;
            records.Add(Record(i, e));
        }

        var discarded = new List<string>();
        IReadOnlyDictionary<string, string>? state = null;
        // Lambda, as its documentation describes it, in batches of 50; the one open question (the retry's state) is the parameter.
        foreach (var batch in records.Chunk(50))
        {
            var pending = new Stack<List<KinesisEventRecord>>();
            pending.Push([.. batch]);
            while (pending.TryPop(out var segment))
            {
                int attempts = 0;
                while (segment.Count > 0)
                {
                    KinesisTimeWindowResponse r = await Invoke(f, AggregatorTestData.Invoke(segment, state));
                    if (r.BatchItemFailures.Count == 0)
                    {
                        state = r.State;
                        break;
                    }
                    var stateForRetry = reading == RetryState.Returned ? r.State : state;
                    int lowest = r.BatchItemFailures.Select(b => segment.FindIndex(x => x.Kinesis.SequenceNumber == b.ItemIdentifier)).Min();
                    Assert.True(lowest >= 0, "reported records belong to the batch");
                    if (lowest > 0)
                    {
                        // Checkpoint before the lowest failure, retry from it.
                        segment = segment[lowest..];
                        state = stateForRetry;
                        attempts = 0;
                        continue;
                    }
                    state = stateForRetry;
                    if (bisect && segment.Count > 1)
                    {
                        pending.Push(segment[(segment.Count / 2)..]);
                        pending.Push(segment[..(segment.Count / 2)]);
                        break;
                    }
                    if (++attempts > 2)
                    {
                        discarded.AddRange(segment.Select(x => x.Kinesis.SequenceNumber));
                        break;
                    }
                }
            }
        }
        KinesisTimeWindowResponse last = await Invoke(f, AggregatorTestData.Invoke([], state, final: true));
        Assert.Empty(last.State);

        // Every record is either counted exactly once or was sent to the on-failure destination: none counted twice,
        // none lost without a trace. With bisect only the bad records are discarded.
        Assert.True(bad.IsSubsetOf(discarded), "every bad record reached the on-failure destination");
        if (bisect)
        {
            Assert.Equal(bad.Order(StringComparer.Ordinal), discarded.Order(StringComparer.Ordinal));
        }
        var counted = events.Where(e => !discarded.Contains(e.Key)).Select(e => e.Value).ToList();
        Assert.True(counted.Count > 0);
        AssertMatches(counted, await ReadAll(fake, client));
    }

    [Theory]
    [InlineData("not json at all", "not valid JSON")]
    [InlineData("[1,2]", "not a JSON object")]
    [InlineData("{\"amount\":1}", "key field 'userId' is missing")]
    [InlineData("{\"userId\":{\"a\":1}}", "must be a string or number")]
    [InlineData("{\"userId\":\"u\",\"amount\":true}", "field 'amount' must be a number")]
    [InlineData("{\"userId\":\"u\"} trailing", "not")]
    public async Task Invalid_events_are_reported_naming_the_record_without_its_data(string json, string expected)
    {
        var (client, _) = FakeDynamoDb.Create();
        var aggregator = new WindowAggregator(Config, new DynamoDbAggregateSink(client, "agg"));
        AggregationOutcome o = await aggregator.ProcessAsync(AggregatorTestData.Invoke([Record(0, new Ev("u-0", 1m, null)), Record(1, Encoding.UTF8.GetBytes(json))], null));
        Assert.NotNull(o.Failure);
        Assert.Contains(Seq(1), o.Failure!.Message, StringComparison.Ordinal);
        Assert.Contains(expected, o.Failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", o.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, o.AppliedUserRecords);
    }

    [Fact]
    public async Task Aws_documented_window_event_is_read_and_its_non_json_record_is_reported()
    {
        // The AWS example's state ({"1": 282, ...}) was not written by the Aggregator: that is a typed error.
        var (client, _) = FakeDynamoDb.Create();
        var f = new Function(Config, client);
        string json = """
            {"Records":[{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"1","sequenceNumber":"49590338271490256608559692538361571095921575989136588898","data":"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==","approximateArrivalTimestamp":1607497475.000},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"shardId-000000000006:49590338271490256608559692538361571095921575989136588898","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::123456789012:role/lambda-kinesis-role","awsRegion":"us-east-1","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream"}],
             "window":{"start":"2020-12-09T07:04:00Z","end":"2020-12-09T07:06:00Z"},"state":{},"shardId":"shardId-000000000006","eventSourceARN":"arn:aws:kinesis:us-east-1:123456789012:stream/lambda-stream","isFinalInvokeForWindow":false,"isWindowTerminatedEarly":false}
            """;
        using Stream output = await f.FunctionHandler(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        var r = JsonSerializer.Deserialize(output, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse)!;
        Assert.Equal("49590338271490256608559692538361571095921575989136588898", Assert.Single(r.BatchItemFailures).ItemIdentifier);

        var bad = json.Replace("\"state\":{}", "\"state\":{\"1\":282}", StringComparison.Ordinal);
        var ex = await Assert.ThrowsAsync<AggregatorStateException>(() => f.HandleAsync(new MemoryStream(Encoding.UTF8.GetBytes(bad)), CancellationToken.None));
        Assert.Equal("m", ex.Entry);
    }

    [Fact]
    public async Task Event_without_window_is_a_typed_error()
    {
        var (client, _) = FakeDynamoDb.Create();
        var f = new Function(Config, client);
        await Assert.ThrowsAsync<AggregatorEventException>(() => f.ProcessAsync(new KinesisTimeWindowEvent { Records = [] }));
    }

    [Fact]
    public void Over_budget_windows_end_early_and_nothing_is_lost_or_doubled()
    {
        var config = Config with { StateBudgetBytes = 16_384 };
        Gen.Select(Gen.Int[200, 1500], Gen.Int[1, 5]).Sample(t =>
        {
            var (n, invokes) = t;
            var rnd = new Random(n);
            var events = Enumerable.Range(0, n).Select(i => new Ev("user-" + rnd.Next(0, 600).ToString("D5", CultureInfo.InvariantCulture), rnd.Next(0, 1000) / 10m, "/p" + rnd.Next(0, 30))).ToArray();
            var (client, fake) = FakeDynamoDb.Create();
            var f = new Function(config, client);
            int[] cuts = Enumerable.Range(1, invokes - 1).Select(k => k * n / invokes).ToArray();
            RunWindow(f, events.Select((e, i) => Record(i, e)).ToList(), cuts, budget: config.StateBudgetBytes).GetAwaiter().GetResult();
            var all = ReadAll(fake, client).GetAwaiter().GetResult();
            AssertMatches(events, all);
            if (n >= 1000)
            {
                // ~600 keys need more than 16 KiB: the window must have been written in several segments.
                Assert.True(all.Values.SelectMany(r => r.Contributions).Distinct().Count() > 1, "expected early-ended segments");
            }
        }, iter: 20);
    }

    [Fact]
    public void State_round_trips_and_its_size_estimate_bounds_the_real_size()
    {
        EventGen.Array[0, 200].Sample(events =>
        {
            var state = new WindowState(Config);
            foreach (Ev e in events)
            {
                state.Apply(e.User, [e.Amount], e.Page);
            }

            state.LastSequenceNumber = Seq(events.Length);
            state.SegmentStart = events.Length > 0 ? Seq(0) + "/0" : null;
            Dictionary<string, string> map = state.ToStateMap();
            var back = WindowState.Parse(map, Config);
            Assert.Equal(map, back.ToStateMap());
            Assert.Equal(state.KeyEntriesBytes, back.KeyEntriesBytes);
            var response = new KinesisTimeWindowResponse { State = map };
            int real = JsonSerializer.SerializeToUtf8Bytes(response, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse).Length;
            Assert.True(real <= state.EstimatedBytes, $"real {real} > estimate {state.EstimatedBytes}");
        }, iter: 500);
    }

    [Fact]
    public void Top_k_keeps_exact_counts_within_capacity_and_marks_estimates_beyond()
    {
        var agg = new KeyAggregate(0);
        foreach (string c in new[] { "a", "b", "a", "c", "a", "b" })
        {
            agg.AddCategory(c, 3);
        }

        Assert.False(agg.TopIsApproximate);
        Assert.Equal([("a", 3L), ("b", 2L), ("c", 1L)], agg.RankedTop().Select(e => (e.Category, e.Count)));
        agg.AddCategory("d", 3);
        Assert.True(agg.TopIsApproximate);
        Assert.Equal(("d", 2L, 1L), agg.RankedTop().Where(e => e.Category == "d").Select(e => (e.Category, e.Count, e.Error)).Single());
    }
}
