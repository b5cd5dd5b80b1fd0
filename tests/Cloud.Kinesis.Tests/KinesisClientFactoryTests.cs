using Amazon.Runtime;

namespace Cloud.Kinesis.Tests;

/// <summary>KinesisConnectionOptions validation (every problem in one message) and what the factory configures.</summary>
public sealed class KinesisClientFactoryTests
{
    [Fact]
    public void Every_problem_is_named_in_one_message()
    {
        var options = new KinesisConnectionOptions
        {
            ServiceUrl = new Uri("ftp://127.0.0.1:21/"),
            Region = "US_EAST_1",
            MaxErrorRetry = -1,
            Timeout = TimeSpan.Zero,
        };

        var ex = Assert.Throws<ArgumentException>(() => KinesisClientFactory.Create(options));

        Assert.Contains("ServiceUrl 'ftp://127.0.0.1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Region 'US_EAST_1'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxErrorRetry -1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Timeout 00:00:00", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("us east 1")]
    public void Bad_regions_are_refused(string region)
    {
        Assert.Throws<ArgumentException>(() => new KinesisConnectionOptions { Region = region }.Validate());
    }

    [Fact]
    public void A_relative_service_url_and_too_many_retries_are_refused()
    {
        var ex = Assert.Throws<ArgumentException>(() => new KinesisConnectionOptions { ServiceUrl = new Uri("/kinesis", UriKind.Relative), MaxErrorRetry = 101 }.Validate());
        Assert.Contains("absolute http or https", ex.Message, StringComparison.Ordinal);
        Assert.Contains("between 0 and 100", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_are_valid()
    {
        new KinesisConnectionOptions().Validate();
        new KinesisConnectionOptions { ServiceUrl = new Uri("https://kinesis.vpce.example:443/"), Region = "eu-west-1", MaxErrorRetry = 0, Timeout = TimeSpan.FromSeconds(1) }.Validate();
    }

    [Fact]
    public void An_explicit_endpoint_signs_for_the_given_region_with_the_given_retries_and_timeout()
    {
        using var client = KinesisClientFactory.Create(new KinesisConnectionOptions
        {
            ServiceUrl = new Uri("http://127.0.0.1:4567/"),
            Region = "eu-west-1",
            Credentials = new BasicAWSCredentials("a", "b"),
            MaxErrorRetry = 0,
            Timeout = TimeSpan.FromSeconds(7),
        });

        Assert.Equal("http://127.0.0.1:4567/", client.Config.ServiceURL);
        Assert.Equal("eu-west-1", client.Config.AuthenticationRegion);
        Assert.Equal(0, client.Config.MaxErrorRetry);
        Assert.Equal(TimeSpan.FromSeconds(7), client.Config.Timeout);
    }

    [Fact]
    public void A_region_without_an_endpoint_selects_the_regions_endpoint()
    {
        using var client = KinesisClientFactory.Create(new KinesisConnectionOptions { Region = "ap-southeast-2", Credentials = new BasicAWSCredentials("a", "b") });

        Assert.Equal(Amazon.RegionEndpoint.APSoutheast2, client.Config.RegionEndpoint);
        Assert.Null(client.Config.ServiceURL);
    }

    [Fact]
    public void A_missing_profile_is_an_argument_error_naming_it()
    {
        var ex = Assert.Throws<ArgumentException>(() => KinesisClientFactory.Create(new KinesisConnectionOptions { Profile = "no-such-profile-7f3a", ServiceUrl = new Uri("http://127.0.0.1:4567/") }));
        Assert.Contains("'no-such-profile-7f3a'", ex.Message, StringComparison.Ordinal);
        Assert.Null(KinesisClientFactory.ProfileCredentials(null));
        Assert.Null(KinesisClientFactory.ProfileCredentials(""));
    }

    [Fact]
    public void Create_rejects_null()
    {
        Assert.Throws<ArgumentNullException>(() => KinesisClientFactory.Create(null!));
    }
}
