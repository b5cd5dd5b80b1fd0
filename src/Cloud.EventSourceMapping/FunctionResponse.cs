using System.Numerics;
using System.Text.Json;

namespace Cloud.EventSourceMapping;

/// <summary>How an invoke ended, as the event source mapping sees it.</summary>
public enum InvokeOutcome
{
    /// <summary>Every record of the batch is done.</summary>
    Success,
    /// <summary>Records before <see cref="FunctionResponse.FirstFailedIndex"/> are done; the rest is retried.</summary>
    PartialFailure,
    /// <summary>The whole batch failed (exception, timeout, invalid response).</summary>
    BatchFailure,
}

/// <summary>The parsed result of one invoke.</summary>
/// <param name="Outcome">Success, partial or whole-batch failure.</param>
/// <param name="FirstFailedIndex">Index in the batch of the record with the lowest failed sequence number (partial failure only).</param>
/// <param name="StateJson">The returned window state object as JSON text (tumbling windows only).</param>
/// <param name="Error">Why the invoke failed, naming the record or field when known.</param>
/// <param name="FunctionError">Whether the function itself failed (threw or timed out), reported as functionError "Unhandled".</param>
public sealed record FunctionResponse(InvokeOutcome Outcome, int FirstFailedIndex, string? StateJson, string? Error, bool FunctionError)
{
    /// <summary>
    /// Applies Lambda's rules to a function's response body: with ReportBatchItemFailures, an empty or null
    /// <c>batchItemFailures</c> is success, the lowest failed sequence number marks where the retry starts, and
    /// invalid JSON or an empty, null or unknown <c>itemIdentifier</c> fails the whole batch. Without it the body is
    /// ignored. With tumbling windows a response without a <c>state</c> object is a failure.
    /// See https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html.
    /// </summary>
    public static FunctionResponse Parse(ReadOnlySpan<byte> body, IReadOnlyList<StreamRecord> batch, bool reportBatchItemFailures, bool windowed)
    {
        var success = new FunctionResponse(InvokeOutcome.Success, -1, null, null, false);
        if (!reportBatchItemFailures && !windowed)
        {
            return success;
        }
        var trimmed = Trim(body);
        if (trimmed.IsEmpty || trimmed.SequenceEqual("null"u8))
        {
            return windowed ? Failure("the response has no state (tumbling windows need a state object)") : success;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(trimmed.ToArray());
        }
        catch (JsonException e)
        {
            return Failure($"the response is not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            string? state = null;
            if (windowed)
            {
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("state", out var stateElement) || stateElement.ValueKind != JsonValueKind.Object)
                {
                    return Failure("the response has no state object (tumbling windows need one)");
                }
                state = stateElement.GetRawText();
            }
            if (!reportBatchItemFailures || root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("batchItemFailures", out var failures) || failures.ValueKind == JsonValueKind.Null)
            {
                return success with { StateJson = state };
            }
            if (failures.ValueKind != JsonValueKind.Array)
            {
                return Failure("batchItemFailures is not an array");
            }
            if (failures.GetArrayLength() == 0)
            {
                return success with { StateJson = state };
            }
            var lowest = -1;
            BigInteger lowestValue = default;
            var position = 0;
            foreach (var item in failures.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("itemIdentifier", out var id) || id.ValueKind != JsonValueKind.String
                    || id.GetString() is not { Length: > 0 } identifier)
                {
                    return Failure($"batchItemFailures[{position}].itemIdentifier is missing, null or empty");
                }
                var index = IndexOf(batch, identifier);
                if (index < 0 || !BigInteger.TryParse(identifier, out var value))
                {
                    return Failure($"batchItemFailures[{position}].itemIdentifier '{identifier}' is not a sequence number of this batch");
                }
                if (lowest < 0 || value < lowestValue)
                {
                    lowest = index;
                    lowestValue = value;
                }
                position++;
            }
            return new FunctionResponse(InvokeOutcome.PartialFailure, lowest, state, $"the function reported {position} failed record(s), lowest {batch[lowest].SequenceNumber}", false);
        }
    }

    /// <summary>A whole-batch failure with a reason.</summary>
    public static FunctionResponse Failure(string error, bool functionError = false) =>
        new(InvokeOutcome.BatchFailure, 0, null, error, functionError);

    private static int IndexOf(IReadOnlyList<StreamRecord> batch, string sequenceNumber)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch[i].SequenceNumber == sequenceNumber)
            {
                return i;
            }
        }
        return -1;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            body = body[3..];
        }
        return body.Trim(" \t\r\n"u8);
    }
}
