using Cloud.Functions.Aggregator;

namespace Cloud.Functions.Tests.Aggregator;

public class AggregatorConfigTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void Defaults_apply_when_nothing_is_set()
    {
        AggregatorConfig c = AggregatorConfig.FromEnvironment(Env());
        Assert.Equal("cloud-aggregates", c.TableName);
        Assert.Equal("userId", c.KeyField);
        Assert.Equal(["amount"], c.SumFields);
        Assert.Equal("page", c.TopKField);
        Assert.Equal(5, c.TopKSize);
        Assert.Equal(20, c.TopKCapacity);
        Assert.Equal(786_432, c.StateBudgetBytes);
        Assert.Null(c.DynamoDbEndpoint);
    }

    [Fact]
    public void Variables_are_read()
    {
        AggregatorConfig c = AggregatorConfig.FromEnvironment(Env(
            ("AGGREGATES_TABLE", "agg"), ("KEY_FIELD", "zone"), ("SUM_FIELDS", " price , distanceKm "), ("TOPK_FIELD", ""),
            ("TOPK_SIZE", "3"), ("STATE_BUDGET_BYTES", "65536"), ("DYNAMODB_ENDPOINT", "http://127.0.0.1:4567")));
        Assert.Equal("agg", c.TableName);
        Assert.Equal("zone", c.KeyField);
        Assert.Equal(["price", "distanceKm"], c.SumFields);
        Assert.Null(c.TopKField);
        Assert.Equal(3, c.TopKSize);
        Assert.Equal(65536, c.StateBudgetBytes);
        Assert.Equal(new Uri("http://127.0.0.1:4567"), c.DynamoDbEndpoint);
    }

    [Fact]
    public void Every_problem_is_listed_in_one_message()
    {
        var ex = Assert.Throws<ArgumentException>(() => AggregatorConfig.FromEnvironment(Env(
            ("TOPK_SIZE", "0"), ("STATE_BUDGET_BYTES", "2000000"), ("KEY_FIELD", "email"), ("SUM_FIELDS", "amount,amount"), ("DYNAMODB_ENDPOINT", "not a url"))));
        Assert.Contains("TOPK_SIZE", ex.Message, StringComparison.Ordinal);
        Assert.Contains("STATE_BUDGET_BYTES", ex.Message, StringComparison.Ordinal);
        Assert.Contains("personal-data", ex.Message, StringComparison.Ordinal);
        Assert.Contains("twice", ex.Message, StringComparison.Ordinal);
        Assert.Contains("DYNAMODB_ENDPOINT", ex.Message, StringComparison.Ordinal);
    }
}
