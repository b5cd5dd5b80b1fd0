using System.Reflection;

namespace Cloud.Infra.Tests;

/// <summary>The handler strings the stacks deploy resolve to exactly one method of the built function assemblies,
/// as Lambda's .NET runtime requires (an overloaded handler name is rejected).</summary>
public class FunctionHandlerTests
{
    public static TheoryData<string> Handlers => new() { FunctionProject.Aggregator.Handler, FunctionProject.Forget.Handler };

    [Theory]
    [MemberData(nameof(Handlers))]
    public void Handler_names_one_public_stream_method_of_a_constructible_type(string handler)
    {
        var parts = handler.Split("::");
        Assert.Equal(3, parts.Length);
        var path = Path.Combine(AppContext.BaseDirectory, parts[0] + ".dll");
        Assert.True(File.Exists(path), $"{path} is not built next to the tests");

        var assembly = Assembly.LoadFrom(path);
        var type = assembly.GetType(parts[1], throwOnError: false);
        Assert.True(type is { IsPublic: true }, $"{parts[1]} is not a public type of {parts[0]}");

        var methods = type!.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => m.Name == parts[2])
            .ToArray();
        Assert.True(methods.Length == 1, $"{parts[1]}.{parts[2]} has {methods.Length} public overloads; Lambda needs exactly one");

        var method = methods[0];
        Assert.True(method.IsStatic || type.GetConstructor(Type.EmptyTypes) is not null, $"{parts[1]} needs a public parameterless constructor");
        var parameters = method.GetParameters();
        Assert.Single(parameters);
        Assert.Equal(typeof(Stream), parameters[0].ParameterType);
        Assert.True(method.ReturnType == typeof(Stream) || method.ReturnType == typeof(Task<Stream>), $"returns {method.ReturnType}");
    }
}
