namespace Cloud.DataGenerator;

/// <summary>One generated event: its UTF-8 JSON and the values pipelines key on.</summary>
/// <param name="UserId">Pseudonymous user id (also present in the JSON as <c>userId</c>).</param>
/// <param name="Key">The natural aggregation key (page for clickstream, zone for ride pricing).</param>
/// <param name="Timestamp">Event time.</param>
/// <param name="Json">UTF-8 JSON of the event.</param>
public sealed record GeneratedEvent(string UserId, string Key, DateTimeOffset Timestamp, byte[] Json);
