namespace Cloud.Producer;

/// <summary>Invalid <see cref="KinesisProducerOptions"/>; <see cref="Errors"/> names every problem found.</summary>
public sealed class ProducerOptionsValidationException : Exception
{
    /// <summary>Creates the exception from the list of problems.</summary>
    public ProducerOptionsValidationException(IReadOnlyList<string> errors)
        : base("Invalid KinesisProducerOptions: " + string.Join(" ", errors))
    {
        Errors = errors;
    }

    /// <summary>One message per invalid option.</summary>
    public IReadOnlyList<string> Errors { get; }
}
