using System.Text;
using Amazon.Extensions.NETCore.Setup;
using Amazon.Kinesis;
using Amazon.Kinesis.Model;
using Cloud.Kinesis;
using Cloud.Producer;
using Cloud.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Cloud.IntegrationTests.Producer;

/// <summary>The producer takes the IAmazonKinesis that AWSSDK.Extensions.NETCore.Setup registers, as .NET apps do.</summary>
[Collection(EmulatorCollection.Name)]
public sealed class ProducerDependencyInjectionTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task AddAWSService_registered_client_is_the_one_the_producer_writes_through()
    {
        using var admin = fixture.CreateKinesisClient();
        var stream = EmulatorFixture.UniqueName("prod-di");
        await admin.CreateStreamAsync(new CreateStreamRequest { StreamName = stream, ShardCount = 1 });
        await admin.WaitForStreamActiveAsync(stream);

        var services = new ServiceCollection();
        var aws = new AWSOptions { Credentials = fixture.Credentials, Region = Amazon.RegionEndpoint.USEast1 };
        aws.DefaultClientConfig.ServiceURL = fixture.KinesisEndpoint.ToString();
        aws.DefaultClientConfig.MaxErrorRetry = 0;
        services.AddDefaultAWSOptions(aws);
        services.AddAWSService<IAmazonKinesis>();
        services.AddKinesisProducer(o => o.StreamName = stream);
        await using (var provider = services.BuildServiceProvider())
        {
            var producer = provider.GetRequiredService<IKinesisProducer>();
            var result = await producer.SendAsync(Encoding.UTF8.GetBytes("hello"), "k");
            Assert.StartsWith("shardId-", result.ShardId, StringComparison.Ordinal);
            // The producer did not build a client of its own.
            Assert.IsType<AmazonKinesisClient>(provider.GetRequiredService<IAmazonKinesis>());
        }
        var shard = (await admin.ListAllShardsAsync(stream)).Single();
        var iterator = (await admin.GetShardIteratorAsync(new GetShardIteratorRequest { StreamName = stream, ShardId = shard.ShardId, ShardIteratorType = ShardIteratorType.TRIM_HORIZON })).ShardIterator;
        var records = (await admin.GetRecordsAsync(new GetRecordsRequest { ShardIterator = iterator })).Records;
        Assert.Equal("hello", Encoding.UTF8.GetString(Assert.Single(records).Data.ToArray()));
        await admin.DeleteStreamAsync(new DeleteStreamRequest { StreamName = stream });
    }
}
