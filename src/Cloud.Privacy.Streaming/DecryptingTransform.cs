using Cloud.Consumer;

namespace Cloud.Privacy.Streaming;

/// <summary>
/// <see cref="IUserRecordTransform"/> that decrypts personal fields (<see cref="PersonalDataProtector.DecryptAsync"/>)
/// before the handler runs. A forgotten user's fields arrive as the redaction marker (the record succeeds). A tampered
/// or moved ciphertext, a missing key or a key-store failure throws a typed <see cref="PrivacyException"/> naming user
/// and field, which fails (reports) that record only. Records without any field ciphertext pass through untouched
/// (no JSON parse), so non-JSON streams are unaffected.
/// </summary>
public sealed class DecryptingTransform : IUserRecordTransform
{
    private readonly PersonalDataProtector _protector;
    private readonly string? _streamName;

    /// <summary>Creates the stage.</summary>
    /// <param name="protector">The protector (its key ring's cache is shared by every record).</param>
    /// <param name="streamName">
    /// Stream the records are read from; null: taken from each record's <c>eventSourceARN</c>. Used as the bound
    /// context unless the protector's <see cref="PersonalDataOptions.DataSet"/> is set.
    /// </param>
    public DecryptingTransform(PersonalDataProtector protector, string? streamName = null)
    {
        ArgumentNullException.ThrowIfNull(protector);
        _protector = protector;
        _streamName = streamName;
    }

    /// <inheritdoc />
    public async ValueTask<UserRecordContext> TransformAsync(UserRecordContext record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!FieldCiphertext.ContainsCiphertext(record.Data.Span))
        {
            return record;
        }

        var stream = _streamName ?? StreamNameFromArn(record.Parent.EventSourceArn) ?? _protector.Options.DataSet
            ?? throw new InvalidPersonalDataException($"record {record.Describe()} has no eventSourceARN to bind its ciphertexts to a stream; configure the stream name", null);
        var result = await _protector.DecryptAsync(record.Data, stream, cancellationToken).ConfigureAwait(false);
        return result.Status == RevealStatus.NoCiphertext ? record : record with { Data = result.Json };
    }

    /// <summary>The stream name of a Kinesis stream ARN (<c>arn:aws:kinesis:region:account:stream/name</c>), or null.</summary>
    public static string? StreamNameFromArn(string? arn)
    {
        if (string.IsNullOrEmpty(arn))
        {
            return null;
        }

        int i = arn.IndexOf(":stream/", StringComparison.Ordinal);
        if (i < 0)
        {
            return null;
        }

        var rest = arn[(i + ":stream/".Length)..];
        int slash = rest.IndexOf('/', StringComparison.Ordinal); // consumer ARNs: stream/name/consumer/...
        var name = slash < 0 ? rest : rest[..slash];
        return name.Length == 0 ? null : name;
    }
}
