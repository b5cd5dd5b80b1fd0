namespace Cloud.Producer;

/// <summary>A frequent partition key as estimated by the producer's top-K sketch.</summary>
/// <param name="PartitionKey">The key.</param>
/// <param name="Count">Estimated number of records sent with it (never below the true count).</param>
/// <param name="Error">Maximum over-estimation of <paramref name="Count"/>.</param>
public readonly record struct HotKey(string PartitionKey, long Count, long Error);
