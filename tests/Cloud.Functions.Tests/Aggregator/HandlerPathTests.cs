using System.Globalization;
using System.Text;
using System.Text.Json;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;
using Cloud.Records;
using CsCheck;
using static Cloud.Functions.Tests.Aggregator.AggregatorTestData;

namespace Cloud.Functions.Tests.Aggregator;

/// <summary>
/// The handler's fast path (event read in place, base64 decoded in place, zero-copy deaggregation, keys and categories
/// looked up as UTF-8 bytes) against the object path (the event deserialized into <see cref="KinesisTimeWindowEvent"/>
/// and the pre-change string-based field reader), on random events: same response bytes, same segments, same errors.
/// </summary>
public class HandlerPathTests
{
    private static readonly AggregatorConfig Config = new()
    {
        TableName = "agg", SumFields = ["amount", "durationMs"], TopKField = "page", TopKSize = 1, StateBudgetBytes = 16_384,
    };

    private static readonly string[] Keys = ["u-1", "u-2", "ü-3", "u\"4", "u\\5", "🙂", "u/7", "12", "u-" + new string('x', 200), "é" + new string('y', 300)];
    private static readonly string[] Pages = ["/", "/cart", "/a b:c|d,e%", "/ü🙂", "", "p+q=r", new string('z', 140), "é" + new string('w', 130)];

    /// <summary>One user record's JSON text: mostly valid, sometimes each kind of invalid.</summary>
    private static readonly Gen<string> EventJson =
        from kind in Gen.Int[0, 79]
        from key in Gen.Int[0, Keys.Length - 1].Select(i => Keys[i])
        from keyAsNumber in Gen.Int[0, 9]
        from amount in Gen.OneOf(Gen.Const("null"), Gen.Int[-100_000, 100_000].Select(i => (i / 100m).ToString(CultureInfo.InvariantCulture)), Gen.Const("1e3"), Gen.Const("0.000"), Gen.Const("-0"))
        from duration in Gen.Int[0, 40_000]
        from page in Gen.Int[0, Pages.Length - 1].Select(i => Pages[i])
        from pageKind in Gen.Int[0, 9]
        from escapeKey in Gen.Bool
        select kind switch
        {
            0 => "not json at all",
            1 => "[1,2]",
            2 => "{\"amount\":1}",
            3 => "{\"userId\":{\"a\":1}}",
            4 => "{\"userId\":\"u\",\"amount\":true}",
            5 => "{\"userId\":\"u\"} trailing",
            6 => "{\"userId\":\"\"}",
            7 => "{\"userId\":\"u\",\"amount\":1e400}",
            _ => Event(key, keyAsNumber == 0, amount, duration, page, pageKind, escapeKey),
        };

    private static string Event(string key, bool keyAsNumber, string amount, int duration, string page, int pageKind, bool escapeKey)
    {
        string keyJson = keyAsNumber ? "4711" : escapeKey ? Escaped(key) : JsonSerializer.Serialize(key, TestJson.Default.String);
        string pageJson = pageKind switch
        {
            0 => "null",
            1 => "42.50",
            2 => "true",
            3 => "{\"x\":[1,{\"page\":2}]}",
            4 => "[\"a\"]",
            5 => Escaped(page),
            _ => JsonSerializer.Serialize(page, TestJson.Default.String),
        };
        return $"{{\"eventId\":\"e\",\"userId\":{keyJson},\"email\":\"someone@example.com\",\"amount\":{amount},\"durationMs\":{duration},\"page\":{pageJson},\"nested\":{{\"amount\":\"x\",\"userId\":[1]}}}}";
    }

    /// <summary>Every character as a \u escape: the reader must unescape keys and categories.</summary>
    private static string Escaped(string text) => "\"" + string.Concat(text.Select(c => $"\\u{(int)c:X4}")) + "\"";

    /// <summary>How one Kinesis record carries its user records.</summary>
    private static readonly Gen<int> Packing = Gen.Int[0, 29].Select(p => p is 1 or 2 or 9 ? p : p % 10 is 1 or 9 ? 0 : p % 10);

    private static KinesisEventRecord Pack(int index, string[] events, int packing)
    {
        byte[][] data = events.Select(Encoding.UTF8.GetBytes).ToArray();
        byte[] payload;
        switch (packing)
        {
            case 0 or 1 or 2:
                payload = data[0];
                break;
            case 3 or 4 or 5 or 6:
            {
                using var builder = new AggregateBuilder(new AggregateBuilderOptions { MaxAggregateSize = 1024 * 1024 });
                foreach (byte[] d in data)
                {
                    Assert.True(builder.TryAdd("pk-" + (d.Length % 3), null, packing == 6 ? CompressedFrame.Encode(d, CompressionCodec.Lz4) : d));
                }

                payload = builder.ToArray();
                if (packing == 5)
                {
                    payload = CompressedFrame.Encode(payload, CompressionCodec.Zstd);
                }

                break;
            }
            case 7:
                payload = CompressedFrame.Encode(data[0], CompressionCodec.Zstd);
                break;
            case 8:
            {
                using var builder = new AggregateBuilder();
                Assert.True(builder.TryAdd("pk", null, data[0]));
                payload = builder.ToArray();
                payload[^20] ^= 0x5A; // damaged: the MD5 no longer matches, so it passes through as one (non-JSON) record
                break;
            }
            default:
            {
                payload = CompressedFrame.Encode(data[0], CompressionCodec.Zstd);
                payload[^1] ^= 1; // damaged frame: a typed decode failure
                break;
            }
        }

        KinesisEventRecord record = Record(index, payload);
        return packing switch
        {
            1 => record with { Kinesis = record.Kinesis with { Data = "not base64!" } },
            2 => record with { Kinesis = record.Kinesis with { Data = string.Join("\n", record.Kinesis.Data.Chunk(7).Select(c => new string(c))) } },
            _ => record,
        };
    }

    private static readonly Gen<KinesisEventRecord[]> Records =
        Gen.Select(EventJson.Array[1, 6], Packing).Array[0, 12].Select(rs => rs.Select((r, i) => Pack(i, r.Item1, r.Item2)).ToArray());

    [Fact]
    public void The_streamed_handler_answers_every_event_as_the_object_path_does()
    {
        int succeeded = 0, withSegments = 0;
        Gen.Select(Records, Records, Gen.Int[0, 3], Gen.Bool).Sample((first, second, form, final) =>
        {
            var fastSink = new RecordingSink();
            var objectSink = new RecordingSink();
            using var fast = new Function(Config, fastSink);
            using var slow = new Function(Config, objectSink);
            IReadOnlyDictionary<string, string>? state = null;
            foreach ((KinesisEventRecord[] records, bool isFinal) in new[] { (first, false), (second, final) })
            {
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(Invoke(records, state, isFinal), KinesisEventsJsonContext.Default.KinesisTimeWindowEvent);
                json = form switch
                {
                    // As Lambda writes it ('+' and '/' unescaped), and with '/' escaped as some producers do.
                    1 => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(json).Replace("\\u002B", "+", StringComparison.Ordinal)),
                    2 => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(json).Replace("\\u002B", "+", StringComparison.Ordinal).Replace("/", "\\/", StringComparison.Ordinal)),
                    _ => json,
                };
                (string expected, IReadOnlyDictionary<string, string>? next) = ObjectPath(slow, json);
                string actual = FastPath(fast, json);
                Assert.Equal(expected, actual);
                if (actual.Contains("\"batchItemFailures\":[]", StringComparison.Ordinal) && records.Length > 0)
                {
                    Interlocked.Increment(ref succeeded);
                }

                state = next;
            }

            Assert.Equal(objectSink.Segments, fastSink.Segments);
            if (fastSink.Segments.Count > 0)
            {
                Interlocked.Increment(ref withSegments);
            }
        }, iter: 400);

        // The comparison means something only if many invokes aggregated records and wrote segments.
        Assert.True(succeeded > 100, $"only {succeeded} invokes succeeded");
        Assert.True(withSegments > 20, $"only {withSegments} samples wrote segments");
    }

    [Theory]
    [InlineData(0, 9)]   // damaged zstd frame in the first chunk of 32
    [InlineData(37, 9)]  // ... in the second chunk
    [InlineData(31, 1)]  // bad base64 ends a chunk
    [InlineData(50, 8)]  // damaged MD5: passes through as one (non-JSON) record, a handler failure
    [InlineData(-1, 0)]  // none
    public void A_bad_record_among_many_aggregates_fails_alone_with_the_message_of_the_one_record_path(int bad, int packing)
    {
        // 70 KPL+zstd records of 3 events each, some duplicates of an incoming state: decoded in chunks of 32 on the
        // fast path, one by one on the object path.
        var records = new List<KinesisEventRecord>();
        for (int i = 0; i < 70; i++)
        {
            string[] events = [.. Enumerable.Range(0, 3).Select(u => $"{{\"userId\":\"u-{(i * 3 + u) % 17}\",\"amount\":{i}.5,\"durationMs\":{u},\"page\":\"/p{u}\"}}")];
            records.Add(Pack(i, events, i == bad ? packing : 5));
        }

        var incoming = new WindowState(Config) { LastSequenceNumber = Seq(4) }.ToStateMap();
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(Invoke(records, incoming), KinesisEventsJsonContext.Default.KinesisTimeWindowEvent);
        var aggregator = new WindowAggregator(Config, new RecordingSink());
        AggregationOutcome slow = aggregator.ProcessAsync(JsonSerializer.Deserialize(json, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent)!).GetAwaiter().GetResult();
        ParsedWindowEvent parsed = WindowEventReader.Parse(json, json.Length);
        (AggregationOutcome fast, _) = aggregator.ProcessAsync(parsed, CancellationToken.None).GetAwaiter().GetResult();

        Assert.Equal(slow.AppliedUserRecords, fast.AppliedUserRecords);
        Assert.Equal(slow.DuplicateRecords, fast.DuplicateRecords);
        Assert.Equal(5, fast.DuplicateRecords);
        // (The base64 message counts characters differently on the two paths, whitespace aside: compared by stage.)
        Assert.Equal(packing == 1 ? slow.Failure?.Stage.ToString() : slow.Failure?.Message, packing == 1 ? fast.Failure?.Stage.ToString() : fast.Failure?.Message);
        Assert.Equal(slow.Failure?.Stage, fast.Failure?.Stage);
        Assert.Equal(slow.Failure?.SequenceNumber, fast.Failure?.SequenceNumber);
        Assert.Equal(slow.Response.BatchItemFailures.Select(f => f.ItemIdentifier), fast.Response.BatchItemFailures.Select(f => f.ItemIdentifier));
        if (bad < 5)
        {
            // A duplicate is not decoded: however bad, it fails nothing.
            Assert.Null(fast.Failure);
            Assert.Equal(65 * 3, fast.AppliedUserRecords);
        }
        else
        {
            Assert.Equal(Seq(bad), fast.Failure!.SequenceNumber);
            Assert.Contains(Seq(bad), fast.Failure.Message, StringComparison.Ordinal);
            Assert.Equal(Seq(0), Assert.Single(fast.Response.BatchItemFailures).ItemIdentifier); // the batch's first record
            Assert.Equal((bad - 5) * 3, fast.AppliedUserRecords);
        }
    }

    [Fact]
    public void Events_that_are_not_time_window_events_are_json_errors_on_both_paths()
    {
        string good = Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(Invoke([Record(0, new Ev("u-1", 1m, "/"))], null), KinesisEventsJsonContext.Default.KinesisTimeWindowEvent));
        string[] bad =
        [
            "null", "[]", "{", "{\"Records\":[{\"kinesis\":{\"data\":5}}]}", "{\"Records\":{}}", good + " x",
            good.Replace("\"isFinalInvokeForWindow\":false", "\"isFinalInvokeForWindow\":\"no\"", StringComparison.Ordinal),
            good.Replace("\"start\":\"2026-01-01T00:00:00Z\"", "\"start\":\"yesterday\"", StringComparison.Ordinal),
            good.Replace("\"approximateArrivalTimestamp\":1767225600.000", "\"approximateArrivalTimestamp\":\"soon\"", StringComparison.Ordinal),
            good.Replace("\"eventName\":\"aws:kinesis:record\"", "\"eventName\":7", StringComparison.Ordinal),
            good.Replace("\"window\":", "\"state\":[],\"window\":", StringComparison.Ordinal),
        ];
        using var f = new Function(Config, new RecordingSink());
        Assert.NotEqual(good, bad[^1]);
        foreach (string json in bad)
        {
            Assert.True(Throws(() => JsonSerializer.Deserialize(json, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent) ?? throw new JsonException("null")), "deserializing: " + json);
            Assert.True(Throws(() => f.FunctionHandler(new MemoryStream(Encoding.UTF8.GetBytes(json))).GetAwaiter().GetResult()), "handler: " + json);
        }

        static bool Throws(Func<object> action)
        {
            try
            {
                action();
                return false;
            }
            catch (JsonException)
            {
                return true;
            }
        }
    }

    [Fact]
    public void The_byte_based_field_reader_reads_what_the_string_based_one_did()
    {
        var reference = new ReferenceFieldReader(Config.KeyField, Config.SumFields, Config.TopKField);
        var reader = new EventFieldReader(Config.KeyField, Config.SumFields, Config.TopKField);
        EventJson.Sample(json =>
        {
            // CsCheck samples on several threads: state and scratch per sample.
            var state = new WindowState(Config);
            var keys = new ByteScratch();
            byte[] utf8 = Encoding.UTF8.GetBytes(json);
            decimal?[] expectedValues = new decimal?[2], values = new decimal?[2];
            string? expectedError = reference.TryRead(utf8, expectedValues, out string expectedKey, out string? expectedCategory);
            string? error = reader.TryRead(utf8, values, state, keys, out int start, out int length, out string? category);
            Assert.Equal(expectedError, error);
            if (error is null)
            {
                Assert.Equal(expectedKey, Encoding.UTF8.GetString(keys.Written.Slice(start, length)));
                Assert.Equal(expectedCategory, category);
                Assert.Equal(expectedValues, values);
            }
        }, iter: 5_000);
    }

    [Fact]
    public void Plain_numbers_parse_to_the_decimal_Utf8JsonReader_gives_bit_for_bit()
    {
        // Digits with a point anywhere (leading and trailing zeros kept), signs, lengths around the 18-digit limit,
        // and shapes the fast parse leaves to the reader (exponents, zero, 19+ digits).
        Gen<string> numbers = Gen.OneOf(
            Gen.Select(Gen.Bool, Gen.Char["0123456789"].Array[1, 22], Gen.Int[-1, 22]).Select((neg, d, point) =>
            {
                string digits = new(d);
                digits = digits.Length > 1 ? digits.TrimStart('0') is { Length: > 0 } t ? t : "0" : digits;
                string text = point >= 1 && point < digits.Length ? digits[..point] + "." + digits[point..] : digits;
                if (point == 0)
                {
                    text = "0." + digits;
                }

                return (neg ? "-" : "") + text;
            }),
            Gen.Select(Gen.Long, Gen.Int[-30, 30]).Select((m, e) => $"{m}e{e}"),
            Gen.Decimal.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        numbers.Sample(text =>
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetDecimal(out decimal expected))
            {
                Assert.False(EventFieldReader.TryParsePlainDecimal(utf8, out _) && IsJsonNumber(utf8), text);
                return;
            }

            if (EventFieldReader.TryParsePlainDecimal(reader.ValueSpan, out decimal actual))
            {
                Assert.Equal(decimal.GetBits(expected), decimal.GetBits(actual));
                Assert.Equal(expected.ToString(CultureInfo.InvariantCulture), actual.ToString(CultureInfo.InvariantCulture));
            }
        }, iter: 20_000);

        Assert.True(EventFieldReader.TryParsePlainDecimal("-12.50"u8, out decimal d) && d.ToString(CultureInfo.InvariantCulture) == "-12.50");
        Assert.False(EventFieldReader.TryParsePlainDecimal("0"u8, out _));
        Assert.False(EventFieldReader.TryParsePlainDecimal("1e3"u8, out _));
        Assert.False(EventFieldReader.TryParsePlainDecimal("1234567890123456789"u8, out _));

        static bool IsJsonNumber(byte[] utf8)
        {
            try
            {
                var r = new Utf8JsonReader(utf8);
                return r.Read() && r.TokenType == JsonTokenType.Number && !r.Read();
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }

    [Fact]
    public void Decimal_text_length_matches_on_64_bit_mantissas_and_powers_of_ten()
    {
        Gen.Select(Gen.ULong, Gen.Int[0, 28], Gen.Bool).Sample((m, scale, neg) =>
        {
            ulong mantissa = m >> (int)(m % 64);
            var value = new decimal((int)(uint)mantissa, (int)(uint)(mantissa >> 32), 0, neg, (byte)scale);
            Assert.Equal(value.ToString(CultureInfo.InvariantCulture).Length, DecimalText.Length(value));
        }, iter: 20_000);
        for (int p = 0; p <= 19; p++)
        {
            ulong power = 1;
            for (int k = 0; k < p; k++)
            {
                power *= 10;
            }

            foreach (ulong v in new[] { power - 1, power, power + 1 })
            {
                var value = new decimal((int)(uint)v, (int)(uint)(v >> 32), 0, false, 0);
                Assert.Equal(value.ToString(CultureInfo.InvariantCulture).Length, DecimalText.Length(value));
            }
        }
    }

    [Fact]
    public void Decimal_text_length_is_the_length_of_its_invariant_text()
    {
        Gen.Select(Gen.Long, Gen.Int[0, 28], Gen.Bool, Gen.Int[0, 3]).Sample((mantissa, scale, negative, wide) =>
        {
            int hi = wide == 0 ? (int)(mantissa >> 40) : 0;
            var value = new decimal((int)mantissa, (int)(mantissa >> 32), hi, negative, (byte)scale);
            Assert.Equal(value.ToString(CultureInfo.InvariantCulture).Length, DecimalText.Length(value));
        }, iter: 20_000);
        foreach (string text in new[] { "0", "-0", "0.00", "-0.000", "1e3", "79228162514264337593543950335", "-0.0000000000000000000000000001" })
        {
            decimal d = decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            Assert.Equal(d.ToString(CultureInfo.InvariantCulture).Length, DecimalText.Length(d));
        }
    }

    [Fact]
    public void Utf8_key_comparer_agrees_with_ordinal_strings()
    {
        Gen.Select(Gen.String, Gen.String, Gen.Bool).Sample((a, b, same) =>
        {
            b = same ? a : b;
            if (!Encoding.UTF8.GetBytes(a).AsSpan().SequenceEqual(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(a)))))
            {
                return; // lone surrogates do not survive UTF-8: such text never comes out of a JSON reader
            }

            Utf8KeyComparer c = Utf8KeyComparer.Instance;
            byte[] utf8 = Encoding.UTF8.GetBytes(a);
            Assert.Equal(c.GetHashCode(a), c.GetHashCode((ReadOnlySpan<byte>)utf8));
            Assert.Equal(string.Equals(a, b, StringComparison.Ordinal), c.Equals((ReadOnlySpan<byte>)utf8, b));
            Assert.Equal(a, c.Create(utf8));
            if (a.Length is > 0 and <= 512)
            {
                // The state's size estimate is the same whether the key arrives as a string or as UTF-8 bytes.
                var byString = new WindowState(Config);
                var byBytes = new WindowState(Config);
                byString.Apply(a, [1m, null], "/");
                byBytes.Apply((ReadOnlySpan<byte>)utf8, [1m, null], "/");
                Assert.Equal(byString.KeyEntriesBytes, byBytes.KeyEntriesBytes);
            }
        }, iter: 10_000);
    }

    private static (string Response, IReadOnlyDictionary<string, string>? State) ObjectPath(Function f, byte[] json)
    {
        try
        {
            KinesisTimeWindowEvent evt = JsonSerializer.Deserialize(json, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent)!;
            AggregationOutcome outcome = f.ProcessAsync(evt).GetAwaiter().GetResult();
            return (Encoding.UTF8.GetString(JsonSerializer.SerializeToUtf8Bytes(outcome.Response, KinesisEventsJsonContext.Default.KinesisTimeWindowResponse)), outcome.Response.State);
        }
        catch (Exception ex) when (ex is JsonException or AggregatorStateException)
        {
            return ("threw " + ex.GetType().Name, null);
        }
    }

    private static string FastPath(Function f, byte[] json)
    {
        try
        {
            using Stream output = f.FunctionHandler(new MemoryStream(json)).GetAwaiter().GetResult();
            return new StreamReader(output).ReadToEnd();
        }
        catch (Exception ex) when (ex is JsonException or AggregatorStateException)
        {
            return "threw " + ex.GetType().Name;
        }
    }

    private sealed class RecordingSink : IAggregateSink
    {
        public List<string> Segments { get; } = [];

        public Task WriteAsync(WindowSegment segment, CancellationToken cancellationToken)
        {
            var sb = new StringBuilder().Append(segment.ContributionId).Append(' ').Append(segment.WindowStart.ToUnixTimeSeconds());
            foreach ((string key, KeyAggregate agg) in segment.Keys.OrderBy(k => k.Key, StringComparer.Ordinal))
            {
                sb.Append(" | ").Append(key).Append(' ').Append(agg.Count);
                foreach (FieldStats fs in agg.Fields)
                {
                    sb.Append(' ').Append(fs.Count).Append(':').Append(fs.Sum.ToString(CultureInfo.InvariantCulture))
                      .Append(':').Append(fs.Count > 0 ? fs.Min.ToString(CultureInfo.InvariantCulture) : "")
                      .Append(':').Append(fs.Count > 0 ? fs.Max.ToString(CultureInfo.InvariantCulture) : "");
                }

                sb.Append(agg.TopIsApproximate ? " ~" : " =");
                foreach (TopEntry e in agg.Top.OrderBy(t => t.Category, StringComparer.Ordinal))
                {
                    sb.Append(' ').Append(e.Category).Append(':').Append(e.Count).Append(':').Append(e.Error);
                }
            }

            Segments.Add(sb.ToString());
            return Task.CompletedTask;
        }
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class TestJson : System.Text.Json.Serialization.JsonSerializerContext;
