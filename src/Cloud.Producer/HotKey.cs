namespace Cloud.Producer;

/// <summary>A frequent partition key as estimated by the producer's top-K sketch.</summary>
/// <param name="PartitionKey">The key: a pseudonym (<c>k:</c> + 12 hex digits of an HMAC under a key that lives only in
/// this producer instance) unless <see cref="HotKeyDisclosure.Raw"/> was asked for.</param>
/// <param name="Count">Estimated number of records sent with it (never below the true count).</param>
/// <param name="Error">Maximum over-estimation of <paramref name="Count"/>.</param>
public readonly record struct HotKey(string PartitionKey, long Count, long Error);

/// <summary>How <see cref="KinesisProducer.GetHotKeys"/> shows partition keys, which are often user ids.</summary>
public enum HotKeyDisclosure
{
    /// <summary>Keys replaced by per-producer pseudonyms: stable within the producer's lifetime, unlinkable outside it.</summary>
    Pseudonymized,

    /// <summary>The keys as sent (opt-in: they may be personal data).</summary>
    Raw,
}
