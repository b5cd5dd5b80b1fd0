using System.Diagnostics.Metrics;
using Amazon.Kinesis;
using Cloud.Kinesis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cloud.Producer;

/// <summary>Registers <see cref="KinesisProducer"/> with Microsoft.Extensions.DependencyInjection.</summary>
public static class ProducerServiceCollectionExtensions
{
    /// <summary>Service key of the Kinesis client the producer builds when none is registered.</summary>
    public const string ProducerClientKey = "Cloud.Producer";

    /// <summary>
    /// Adds a singleton <see cref="IKinesisProducer"/> (and <see cref="KinesisProducer"/>) configured by
    /// <paramref name="configure"/>. It uses the <see cref="IAmazonKinesis"/> registered in the container (e.g. by
    /// AWSSDK.Extensions.NETCore.Setup's <c>AddAWSService&lt;IAmazonKinesis&gt;()</c>; configure it with
    /// <c>MaxErrorRetry = 0</c>) or, when there is none, builds one from <paramref name="connection"/> with SDK retries off
    /// (region and credentials from the SDK's usual chain unless set). Uses <see cref="TimeProvider"/>,
    /// <see cref="IMeterFactory"/> and logging when registered. The container disposes (and so flushes) it.
    /// </summary>
    public static IServiceCollection AddKinesisProducer(this IServiceCollection services, Action<KinesisProducerOptions> configure,
        Action<KinesisConnectionOptions>? connection = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        // Validation happens in the producer's constructor so the error names every problem.
        services.AddOptions<KinesisProducerOptions>().Configure(configure);
        services.TryAddKeyedSingleton<IAmazonKinesis>(ProducerClientKey, (_, _) =>
        {
            var options = new KinesisConnectionOptions();
            connection?.Invoke(options);
            options.MaxErrorRetry = 0; // the producer is the one retry layer of its calls
            return KinesisClientFactory.Create(options);
        });
        services.TryAddSingleton(sp => new KinesisProducer(
            sp.GetService<IAmazonKinesis>() ?? sp.GetRequiredKeyedService<IAmazonKinesis>(ProducerClientKey),
            sp.GetRequiredService<IOptions<KinesisProducerOptions>>().Value,
            sp.GetService<TimeProvider>(),
            sp.GetService<IMeterFactory>(),
            sp.GetService<ILogger<KinesisProducer>>()));
        services.TryAddSingleton<IKinesisProducer>(sp => sp.GetRequiredService<KinesisProducer>());
        return services;
    }
}
