namespace Cloud.DataGenerator;

/// <summary>
/// Draws ranks 0..n-1 with probability proportional to 1/(rank+1)^s: a few keys are hot, most are
/// cold, as real user and product keys are. Inverse-CDF sampling over a precomputed table.
/// </summary>
public sealed class ZipfSampler
{
    private readonly double[] _cdf;

    /// <summary>Creates a sampler over <paramref name="count"/> ranks with exponent <paramref name="exponent"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">count &lt; 1 or exponent &lt; 0.</exception>
    public ZipfSampler(int count, double exponent)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(exponent);
        _cdf = new double[count];
        double total = 0;
        for (var i = 0; i < count; i++)
        {
            total += 1.0 / Math.Pow(i + 1, exponent);
            _cdf[i] = total;
        }

        for (var i = 0; i < count; i++)
        {
            _cdf[i] /= total;
        }

        _cdf[^1] = 1.0;
    }

    /// <summary>Number of ranks.</summary>
    public int Count => _cdf.Length;

    /// <summary>Probability of a rank.</summary>
    public double Probability(int rank) => rank == 0 ? _cdf[0] : _cdf[rank] - _cdf[rank - 1];

    /// <summary>Draws one rank using <paramref name="random"/>.</summary>
    public int Next(Random random)
    {
        var u = random.NextDouble();
        var index = Array.BinarySearch(_cdf, u);
        return index >= 0 ? index : Math.Min(~index, _cdf.Length - 1);
    }
}
