using Cloud.Testing.Kinesis;

namespace Cloud.EventSourceMapping.Tests;

public class OptionsTests
{
    [Fact]
    public void Defaults_are_Lambda_defaults_and_valid()
    {
        var options = new EventSourceMappingOptions { StreamName = "s" };
        options.Validate();
        Assert.Equal(100, options.BatchSize);
        Assert.Equal(0, options.MaximumBatchingWindowInSeconds);
        Assert.Equal(-1, options.MaximumRetryAttempts);
        Assert.Equal(-1, options.MaximumRecordAgeInSeconds);
        Assert.False(options.BisectBatchOnFunctionError);
        Assert.Equal(TimeSpan.FromSeconds(1), options.PollInterval);
        Assert.Equal("esm-s", options.EffectiveMappingId);
    }

    [Fact]
    public void Every_problem_is_named_in_one_exception()
    {
        var options = new EventSourceMappingOptions
        {
            StartingPosition = StartingPosition.AtTimestamp,
            BatchSize = 10_001,
            MaximumBatchingWindowInSeconds = 301,
            MaximumRetryAttempts = -2,
            MaximumRecordAgeInSeconds = 59,
            TumblingWindowInSeconds = 901,
            PollInterval = TimeSpan.Zero,
        };
        options.FunctionResponseTypes.Add("Nope");
        var e = Assert.Throws<EventSourceMappingOptionsException>(options.Validate);
        foreach (var name in new[] { "StreamName", "StartingPositionTimestamp", "BatchSize", "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "TumblingWindowInSeconds", "FunctionResponseTypes", "PollInterval" })
        {
            Assert.Contains(e.Problems, p => p.StartsWith(name, StringComparison.Ordinal));
        }
        Assert.Equal(9, e.Problems.Count);
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, false)]
    [InlineData(59, false)]
    [InlineData(60, true)]
    [InlineData(604_800, true)]
    [InlineData(604_801, false)]
    public void Maximum_record_age_is_minus_one_or_60_to_604800(int value, bool valid)
    {
        var options = new EventSourceMappingOptions { StreamName = "s", MaximumRecordAgeInSeconds = value };
        if (valid)
        {
            options.Validate();
        }
        else
        {
            Assert.Throws<EventSourceMappingOptionsException>(options.Validate);
        }
    }

    [Theory]
    [InlineData("arn:aws:kinesis:us-east-1:123456789012:stream/orders", "orders")]
    [InlineData("arn:aws:kinesis:us-east-1:123456789012:table/orders", null)]
    [InlineData("orders", null)]
    public void Stream_name_is_taken_from_the_ARN(string arn, string? name) =>
        Assert.Equal(name, EventSourceMappingOptions.StreamNameFromArn(arn));

    [Fact]
    public void Name_and_ARN_must_agree()
    {
        var options = new EventSourceMappingOptions { StreamName = "a", StreamArn = "arn:aws:kinesis:us-east-1:123456789012:stream/b" };
        var e = Assert.Throws<EventSourceMappingOptionsException>(options.Validate);
        Assert.Contains("differs", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Runner_validates_options_on_construction()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        Assert.Throws<EventSourceMappingOptionsException>(() => new LocalEventSourceMapping(
            new EventSourceMappingOptions { StreamName = "s", BatchSize = 0 }, new FakeKinesis(time), (s, _) => Task.FromResult(s), new InMemoryCheckpointStore(), time));
    }

    [Fact]
    public void Enhanced_fan_out_options_are_checked_with_the_rest()
    {
        var options = new EventSourceMappingOptions { StreamName = "s", ConsumerName = "has space", SubscriptionLifetime = TimeSpan.FromMinutes(6) };
        var e = Assert.Throws<EventSourceMappingOptionsException>(options.Validate);
        Assert.Contains(e.Problems, p => p.StartsWith("ConsumerName", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.StartsWith("SubscriptionLifetime", StringComparison.Ordinal));
        new EventSourceMappingOptions { StreamName = "s", ConsumerName = "aggregator-efo.1_a" }.Validate();
    }
}
