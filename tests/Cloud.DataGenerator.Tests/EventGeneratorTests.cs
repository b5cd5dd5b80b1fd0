using System.Text.Json;
using CsCheck;

namespace Cloud.DataGenerator.Tests;

public class EventGeneratorTests
{
    [Theory]
    [InlineData(EventKind.Clickstream)]
    [InlineData(EventKind.RidePricing)]
    public void Same_seed_gives_the_same_events_and_another_seed_does_not(EventKind kind)
    {
        var a = new EventGenerator(new GeneratorOptions { Kind = kind, Seed = 7 }).Take(500).Select(e => Convert.ToBase64String(e.Json)).ToList();
        var b = new EventGenerator(new GeneratorOptions { Kind = kind, Seed = 7 }).Take(500).Select(e => Convert.ToBase64String(e.Json)).ToList();
        var c = new EventGenerator(new GeneratorOptions { Kind = kind, Seed = 8 }).Take(500).Select(e => Convert.ToBase64String(e.Json)).ToList();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(EventKind.Clickstream, "page")]
    [InlineData(EventKind.RidePricing, "zone")]
    public void Events_are_json_with_user_personal_fields_key_and_increasing_time(EventKind kind, string keyField)
    {
        var previous = DateTimeOffset.MinValue;
        foreach (var e in new EventGenerator(new GeneratorOptions { Kind = kind }).Take(2_000))
        {
            using var doc = JsonDocument.Parse(e.Json);
            var root = doc.RootElement;
            Assert.Equal(e.UserId, root.GetProperty("userId").GetString());
            Assert.Equal(e.Key, root.GetProperty(keyField).GetString());
            Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("name").GetString()));
            Assert.Contains('@', root.GetProperty("email").GetString()!);
            Assert.StartsWith("10.", root.GetProperty("ip").GetString()!);
            Assert.Equal(e.Timestamp, root.GetProperty("timestamp").GetDateTimeOffset());
            Assert.True(e.Timestamp >= previous);
            previous = e.Timestamp;
        }
    }

    [Fact]
    public void A_users_personal_data_is_stable_across_events()
    {
        var byUser = new Dictionary<string, string>();
        foreach (var e in new EventGenerator(new GeneratorOptions { UserCount = 50 }).Take(5_000))
        {
            using var doc = JsonDocument.Parse(e.Json);
            var person = doc.RootElement.GetProperty("name").GetString() + "|" + doc.RootElement.GetProperty("email").GetString();
            Assert.Equal(byUser.GetValueOrDefault(e.UserId, person), person);
            byUser[e.UserId] = person;
        }
    }

    [Fact]
    public void User_activity_is_zipf_skewed()
    {
        var counts = new EventGenerator(new GeneratorOptions { UserCount = 1_000, ZipfExponent = 1.1, Seed = 3 })
            .Take(100_000).GroupBy(e => e.UserId).ToDictionary(g => g.Key, g => g.Count());
        var sampler = new ZipfSampler(1_000, 1.1);
        // The hottest user gets its Zipf share (about 13% here) within sampling noise, far above uniform (0.1%).
        var expected = sampler.Probability(0) * 100_000;
        Assert.InRange(counts[EventGenerator.UserId(0)], expected * 0.9, expected * 1.1);
        Assert.True(counts[EventGenerator.UserId(0)] > 20 * counts.GetValueOrDefault(EventGenerator.UserId(500)));
    }

    [Fact]
    public void Zipf_sampler_probabilities_sum_to_one_and_decrease()
    {
        Gen.Int[1, 2_000].Select(Gen.Double[0, 3]).Sample((n, s) =>
        {
            var sampler = new ZipfSampler(n, s);
            var sum = 0.0;
            for (var i = 0; i < n; i++)
            {
                sum += sampler.Probability(i);
                if (i > 0 && sampler.Probability(i) > sampler.Probability(i - 1) + 1e-12)
                {
                    return false;
                }
            }

            return Math.Abs(sum - 1) < 1e-9;
        }, iter: 500);
    }

    [Fact]
    public void Invalid_options_name_every_problem()
    {
        var ex = Assert.Throws<ArgumentException>(() => new EventGenerator(new GeneratorOptions { UserCount = 0, ZipfExponent = -1, MeanInterval = TimeSpan.Zero }));
        Assert.Contains("UserCount", ex.Message);
        Assert.Contains("ZipfExponent", ex.Message);
        Assert.Contains("MeanInterval", ex.Message);
    }
}
