using System.Text.Json;
using Cloud.Benchmarks.Records;
using Cloud.Consumer.Events;
using Cloud.Functions.Aggregator;
using Cloud.Records;

namespace Cloud.Benchmarks.Report.Sections;

/// <summary>
/// The Aggregator handler's stages measured as prefixes of one invoke (each prefix run on its own, CPU time): what the
/// <c>lambda</c> section shows as "where the time goes". Uses the handler's internal stages, so the split is the code's.
/// </summary>
internal static class HandlerStages
{
    public static LambdaSection.Stage[] Measure(byte[] eventJson, AggregatorConfig config, int rounds, double handlerNs, double objectPathNs)
    {
        byte[] buffer = new byte[eventJson.Length];
        var parsed = new ParsedWindowEvent();
        var users = new List<UserRecordData>();
        using var frames = new RecordDecodeBuffers();
        var fields = new EventFieldReader(config.KeyField, config.SumFields, config.TopKField);
        var keys = new ByteScratch();
        decimal?[] values = new decimal?[config.SumFields.Count];

        void Read()
        {
            eventJson.CopyTo(buffer, 0);
            WindowEventReader.Parse(buffer, eventJson.Length, parsed);
        }

        // As the handler decodes: 32 records at a time, all MD5 trailers of a chunk in one multi-buffer pass.
        var chunk = new List<ReadOnlyMemory<byte>>(32);
        int[] counts = new int[32];
        var errors = new RecordFormatException?[32];
        void ForEachUserRecord(Action<ReadOnlyMemory<byte>>? user)
        {
            using var records = new BufferInvokeRecords(parsed);
            DecompressionBudget budget = RecordDecoder.Default.CreateBatchBudget();
            for (int start = 0; start < records.Count; start += 32)
            {
                users.Clear();
                frames.ReturnAll();
                chunk.Clear();
                for (int i = start; i < Math.Min(records.Count, start + 32); i++)
                {
                    if (records.TryGetData(i, out ReadOnlyMemory<byte> data, out _))
                    {
                        chunk.Add(data);
                    }
                }

                RecordDecoder.Default.DecodeDataBatch(chunk, users, counts, errors, budget, frames);
                if (user is not null)
                {
                    foreach (UserRecordData u in users)
                    {
                        user(u.Data);
                    }
                }
            }
        }

        var state = new WindowState(config);
        void Fields(ReadOnlyMemory<byte> json)
        {
            keys.Length = 0;
            fields.TryRead(json.Span, values, state, keys, out _, out _, out _);
        }

        // Warmed up as the handler is (tiered compilation finished), so the prefixes compare with its figure.
        LambdaSection.WarmUp(() => { Read(); ForEachUserRecord(Fields); });
        double read = CpuTimeProbe.BestNsPerOp(Read, 1, rounds);
        double decode = CpuTimeProbe.BestNsPerOp(() => { Read(); ForEachUserRecord(null); }, 1, rounds);
        double withFields = CpuTimeProbe.BestNsPerOp(() => { Read(); ForEachUserRecord(Fields); }, 1, rounds);
        double deserialize = CpuTimeProbe.BestNsPerOp(() => JsonSerializer.Deserialize(eventJson, KinesisEventsJsonContext.Default.KinesisTimeWindowEvent), 1, rounds);
        return
        [
            new("before: event JSON → objects (JsonSerializer)", deserialize, false),
            new("before: object path, whole", objectPathNs, false),
            new("read event in place (+ base64)", read, true),
            new("+ decompress, MD5, deaggregate", decode, true),
            new("+ read fields", withFields, true),
            new("+ fold, state out: whole handler", handlerNs, true),
        ];
    }
}
