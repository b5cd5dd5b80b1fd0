using System.Globalization;
using System.Text.Json;

namespace Cloud.DataGenerator;

/// <summary>
/// Deterministic generator of realistic events with personal fields (name, email, ip) for
/// exercising the pipeline, aggregation and crypto-shredding. Not thread-safe.
/// </summary>
public sealed class EventGenerator
{
    private static readonly string[] FirstNames = ["Ana", "Ben", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustavo", "Hana", "Ivan", "Jia", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë"];
    private static readonly string[] LastNames = ["Almeida", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ivanova", "Jensen", "Kowalski", "López", "Müller", "Nakamura", "O'Brien", "Patel", "Quispe", "Rossi", "Schmidt", "Tanaka", "Usman", "Virtanen", "Wójcik", "Xu", "Yilmaz", "Zhang"];
    private static readonly string[] Domains = ["example.com", "example.org", "example.net", "mail.example", "inbox.example"];
    private static readonly string[] Pages = ["/", "/search", "/products/shoes", "/products/jackets", "/products/bags", "/products/watches", "/cart", "/checkout", "/account", "/help", "/blog/streaming-101", "/blog/kinesis-vs-kafka", "/deals", "/products/hats", "/products/socks", "/about"];
    private static readonly string[] ClickTypes = ["page_view", "page_view", "page_view", "click", "click", "add_to_cart", "purchase"];
    private static readonly string[] Devices = ["desktop", "mobile", "mobile", "tablet"];
    private static readonly string[] Countries = ["DE", "FR", "ES", "US", "BR", "IN", "JP", "NG", "GB", "PL"];
    private static readonly string[] Referrers = ["direct", "search", "social", "email", "ads"];
    private static readonly string[] Zones = ["downtown", "airport", "stadium", "university", "harbour", "old-town", "business-park", "suburbs-north", "suburbs-south", "station"];
    private static readonly string[] Weather = ["clear", "clear", "clear", "rain", "rain", "snow", "storm"];
    private static readonly string[] CityEvents = ["none", "none", "none", "none", "football", "concert", "conference"];

    private readonly GeneratorOptions _options;
    private readonly Random _random;
    private readonly ZipfSampler _users;
    private readonly ZipfSampler _keys;
    private readonly System.Buffers.ArrayBufferWriter<byte> _output = new(512);
    private DateTimeOffset _clock;
    private long _sequence;

    /// <summary>Creates a generator.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public EventGenerator(GeneratorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid generator options: " + string.Join(" ", problems), nameof(options));
        }

        _options = options;
        _random = new Random(options.Seed);
        _users = new ZipfSampler(options.UserCount, options.ZipfExponent);
        _keys = new ZipfSampler(options.Kind == EventKind.Clickstream ? Pages.Length : Zones.Length, options.ZipfExponent);
        _clock = options.StartTime;
    }

    /// <summary>The user id of a user rank (stable across runs).</summary>
    public static string UserId(int rank) => "u-" + rank.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>Generates the next event.</summary>
    public GeneratedEvent Next()
    {
        var gapMs = -Math.Log(1 - _random.NextDouble()) * _options.MeanInterval.TotalMilliseconds;
        _clock = _clock.AddTicks((long)(gapMs * TimeSpan.TicksPerMillisecond));
        var rank = _users.Next(_random);
        var userId = UserId(rank);
        var sequence = _sequence++;
        return _options.Kind == EventKind.Clickstream ? Click(rank, userId, sequence) : Ride(rank, userId, sequence);
    }

    /// <summary>Generates <paramref name="count"/> events.</summary>
    public IEnumerable<GeneratedEvent> Take(long count)
    {
        for (long i = 0; i < count; i++)
        {
            yield return Next();
        }
    }

    private GeneratedEvent Click(int rank, string userId, long sequence)
    {
        var page = Pages[_keys.Next(_random)];
        var type = ClickTypes[_random.Next(ClickTypes.Length)];
        _output.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_output);
        writer.WriteStartObject();
        writer.WriteString("eventId", EventId(sequence));
        writer.WriteString("type", type);
        writer.WriteString("timestamp", _clock);
        WritePerson(writer, rank, userId);
        writer.WriteString("page", page);
        writer.WriteString("referrer", Referrers[_random.Next(Referrers.Length)]);
        writer.WriteString("device", Devices[_random.Next(Devices.Length)]);
        writer.WriteString("country", Countries[rank % Countries.Length]);
        writer.WriteNumber("durationMs", _random.Next(50, 30_000));
        writer.WriteNumber("amount", type == "purchase" ? Math.Round(5 + (_random.NextDouble() * 295), 2) : 0);
        writer.WriteEndObject();
        return new GeneratedEvent(userId, page, _clock, Finish(writer));
    }

    private GeneratedEvent Ride(int rank, string userId, long sequence)
    {
        var zone = Zones[_keys.Next(_random)];
        var weather = Weather[_random.Next(Weather.Length)];
        var cityEvent = CityEvents[_random.Next(CityEvents.Length)];
        var demand = _random.Next(0, 200);
        var supply = _random.Next(1, 120);
        var surge = Math.Round(Math.Clamp(1.0 + ((demand - supply) / 100.0) + (weather is "rain" or "snow" or "storm" ? 0.3 : 0) + (cityEvent == "none" ? 0 : 0.5), 1.0, 4.0), 2);
        var distanceKm = Math.Round(0.5 + (_random.NextDouble() * 25), 2);
        _output.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_output);
        writer.WriteStartObject();
        writer.WriteString("eventId", EventId(sequence));
        writer.WriteString("type", "price_quote");
        writer.WriteString("timestamp", _clock);
        WritePerson(writer, rank, userId);
        writer.WriteString("zone", zone);
        writer.WriteString("weather", weather);
        writer.WriteString("cityEvent", cityEvent);
        writer.WriteNumber("demand", demand);
        writer.WriteNumber("supply", supply);
        writer.WriteNumber("surgeMultiplier", surge);
        writer.WriteNumber("distanceKm", distanceKm);
        writer.WriteNumber("price", Math.Round((2.5 + (distanceKm * 1.2)) * surge, 2));
        writer.WriteEndObject();
        return new GeneratedEvent(userId, zone, _clock, Finish(writer));
    }

    private static void WritePerson(Utf8JsonWriter writer, int rank, string userId)
    {
        // Names, emails and addresses derive from the rank so a user's personal data is stable
        // across events: what crypto-shredding must make unreadable is then easy to search for.
        var first = FirstNames[rank % FirstNames.Length];
        var last = LastNames[(rank / FirstNames.Length) % LastNames.Length];
        writer.WriteString("userId", userId);
        writer.WriteString("name", first + " " + last);
        writer.WriteString("email", string.Create(CultureInfo.InvariantCulture, $"{Ascii(first)}.{Ascii(last)}.{rank}@{Domains[rank % Domains.Length]}").ToLowerInvariant());
        writer.WriteString("ip", string.Create(CultureInfo.InvariantCulture, $"10.{(rank >> 16) & 255}.{(rank >> 8) & 255}.{rank & 255}"));
    }

    private string EventId(long sequence) =>
        string.Create(CultureInfo.InvariantCulture, $"{_options.Seed:x8}-{sequence:x12}");

    private static string Ascii(string name)
    {
        Span<char> buffer = stackalloc char[name.Length];
        var length = 0;
        foreach (var c in name.Normalize(System.Text.NormalizationForm.FormD))
        {
            if (char.IsAsciiLetter(c))
            {
                buffer[length++] = c;
            }
        }

        return new string(buffer[..length]);
    }

    private byte[] Finish(Utf8JsonWriter writer)
    {
        writer.Flush();
        return _output.WrittenSpan.ToArray();
    }
}
