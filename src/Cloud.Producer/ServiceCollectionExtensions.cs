using System.Diagnostics.Metrics;
using Cloud.Kinesis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Cloud.Producer;

/// <summary>Registers <see cref="KinesisProducer"/> with Microsoft.Extensions.DependencyInjection.</summary>
public static class ProducerServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="IKinesisProducer"/> (and <see cref="KinesisProducer"/>) configured by
    /// <paramref name="configure"/>. Requires an <see cref="IKinesisClient"/> registration; uses <see cref="TimeProvider"/>,
    /// <see cref="IMeterFactory"/> and logging when registered. The container disposes (and so flushes) it.
    /// </summary>
    public static IServiceCollection AddKinesisProducer(this IServiceCollection services, Action<KinesisProducerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        // Validation happens in the producer's constructor so the error names every problem.
        services.AddOptions<KinesisProducerOptions>().Configure(configure);
        services.TryAddSingleton(sp => new KinesisProducer(
            sp.GetRequiredService<IKinesisClient>(),
            sp.GetRequiredService<IOptions<KinesisProducerOptions>>().Value,
            sp.GetService<TimeProvider>(),
            sp.GetService<IMeterFactory>(),
            sp.GetService<ILogger<KinesisProducer>>()));
        services.TryAddSingleton<IKinesisProducer>(sp => sp.GetRequiredService<KinesisProducer>());
        return services;
    }
}
