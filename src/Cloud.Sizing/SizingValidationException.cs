using System.Globalization;
using System.Text;

namespace Cloud.Sizing;

/// <summary>One invalid sizing input: which field, and what is wrong with it.</summary>
/// <param name="Field">The input's name as the caller wrote it, e.g. <c>Consumers[1].MaxLatencySeconds</c>.</param>
/// <param name="Message">What is wrong and what is allowed.</param>
public sealed record SizingProblem(string Field, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>Thrown when sizing inputs are invalid; lists every problem found, not only the first.</summary>
public sealed class SizingValidationException : ArgumentException
{
    /// <summary>Creates the exception from the problems found (at least one).</summary>
    public SizingValidationException(IReadOnlyList<SizingProblem> problems)
        : base(Format(problems))
    {
        Problems = problems;
    }

    /// <summary>Creates the exception with a single message (for serializers and tooling).</summary>
    public SizingValidationException(string message)
        : base(message)
    {
        Problems = [new SizingProblem("input", message)];
    }

    /// <summary>Creates the exception with a single message and an inner exception.</summary>
    public SizingValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [new SizingProblem("input", message)];
    }

    /// <summary>Creates an exception with no problems listed (for serializers and tooling).</summary>
    public SizingValidationException()
        : this("Invalid sizing input.")
    {
    }

    /// <summary>Every problem found in the input.</summary>
    public IReadOnlyList<SizingProblem> Problems { get; }

    private static string Format(IReadOnlyList<SizingProblem> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Invalid sizing input ({problems.Count} problem{(problems.Count == 1 ? "" : "s")}):");
        foreach (var p in problems)
        {
            sb.Append("\n  - ").Append(p.Field).Append(": ").Append(p.Message);
        }

        return sb.ToString();
    }
}

/// <summary>Collects problems so that every invalid input is reported at once.</summary>
internal sealed class ProblemList
{
    private readonly List<SizingProblem> _problems = [];

    public int Count => _problems.Count;

    public void Add(string field, string message) => _problems.Add(new SizingProblem(field, message));

    /// <summary>Checks a finite number inside [min, max] (inclusive unless told).</summary>
    public bool Number(string field, double value, double min, double max, bool minExclusive = false, string? unit = null)
    {
        var u = unit is null ? "" : " " + unit;
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            Add(field, $"must be a finite number, got {value.ToString(CultureInfo.InvariantCulture)}.");
            return false;
        }

        var tooLow = minExclusive ? value <= min : value < min;
        if (tooLow || value > max)
        {
            var lower = minExclusive ? $"greater than {Fmt(min)}" : $"at least {Fmt(min)}";
            // double.MaxValue means "no upper bound": spelled out it is a 309-digit number.
            var range = double.IsPositiveInfinity(max) || max >= double.MaxValue ? lower : $"{lower} and at most {Fmt(max)}";
            Add(field, $"must be {range}{u}, got {Fmt(value)}{u}.");
            return false;
        }

        return true;
    }

    public void ThrowIfAny()
    {
        if (_problems.Count > 0)
        {
            throw new SizingValidationException(_problems.ToArray());
        }
    }

    internal static string Fmt(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
}
