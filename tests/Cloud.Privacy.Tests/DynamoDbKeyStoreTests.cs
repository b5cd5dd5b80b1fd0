using Amazon.DynamoDBv2;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;
using Cloud.Emulators;
using Cloud.Testing;

namespace Cloud.Privacy.Tests;

/// <summary>One dynalite for the key store tests (started by the harness's EmulatorHost, or CLOUD_DYNAMODB_ENDPOINT).</summary>
public sealed class DynaliteFixture : IAsyncLifetime
{
    private EmulatorHost? _host;

    public IAmazonDynamoDB Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        AwsTestEnvironment.Apply();
        var tools = await NodeTools.EnsureAsync();
        _host = await EmulatorHost.StartAsync(EmulatorFixture.CreateOptions(tools) with { StartKinesis = false });
        Client = new AmazonDynamoDBClient(new BasicAWSCredentials(AwsTestEnvironment.AccessKeyId, AwsTestEnvironment.SecretAccessKey),
            new AmazonDynamoDBConfig { ServiceURL = _host.DynamoDbEndpoint.ToString(), AuthenticationRegion = AwsTestEnvironment.Region, MaxErrorRetry = 2 });
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    public async Task<DynamoDbKeyStore> NewStoreAsync()
    {
        var store = new DynamoDbKeyStore(Client, "keys-" + Guid.NewGuid().ToString("N")[..12]);
        await store.EnsureTableAsync();
        return store;
    }
}

public class DynamoDbKeyStoreTests(DynaliteFixture fixture) : IClassFixture<DynaliteFixture>
{
    [Fact]
    public async Task Ensure_table_waits_for_active_and_is_idempotent()
    {
        var store = await fixture.NewStoreAsync();
        await store.EnsureTableAsync();
        var d = await fixture.Client.DescribeTableAsync(store.TableName);
        Assert.Equal(TableStatus.ACTIVE, d.Table.TableStatus);
        Assert.Equal(DynamoDbKeyStore.PartitionKey, d.Table.KeySchema[0].AttributeName);
    }

    [Fact]
    public async Task Create_is_conditional_and_first_creator_wins()
    {
        var store = await fixture.NewStoreAsync();
        var now = DateTimeOffset.UtcNow;
        var first = new KeyRecord("u-1", KeyStatus.Active, 1, new byte[] { 1, 2, 3 }, "local:x", now, null);
        var second = first with { WrappedKey = new byte[] { 9, 9, 9 } };
        Assert.Same(first, await store.TryCreateAsync(first, default));
        var winner = await store.TryCreateAsync(second, default);
        Assert.NotSame(second, winner);
        Assert.Equal(new byte[] { 1, 2, 3 }, winner.WrappedKey.ToArray());
        Assert.Equal("local:x", winner.MasterKeyId);
        Assert.Null(await store.GetAsync("nobody", default));
    }

    [Fact]
    public async Task Forget_removes_key_material_and_blocks_new_keys()
    {
        var store = await fixture.NewStoreAsync();
        var now = DateTimeOffset.UtcNow;
        await store.TryCreateAsync(new KeyRecord("u-1", KeyStatus.Active, 1, new byte[] { 1, 2, 3 }, "m", now, null), default);

        var (outcome, at) = await store.ForgetAsync("u-1", now.AddSeconds(1), default);
        Assert.Equal(ForgetOutcome.KeyDestroyed, outcome);
        var raw = await fixture.Client.GetItemAsync(new GetItemRequest
        {
            TableName = store.TableName,
            Key = new() { ["userId"] = new AttributeValue { S = "u-1" } },
            ConsistentRead = true,
        });
        Assert.False(raw.Item.ContainsKey("wrappedKey"));
        Assert.Equal("Forgotten", raw.Item["status"].S);

        var again = await store.ForgetAsync("u-1", now.AddSeconds(5), default);
        Assert.Equal(ForgetOutcome.AlreadyForgotten, again.Outcome);
        Assert.Equal(at, again.ForgottenAt);

        var attempt = await store.TryCreateAsync(new KeyRecord("u-1", KeyStatus.Active, 1, new byte[] { 7 }, "m", now, null), default);
        Assert.Equal(KeyStatus.Forgotten, attempt.Status);
        Assert.True(attempt.WrappedKey.IsEmpty);

        Assert.Equal(ForgetOutcome.TombstoneCreated, (await store.ForgetAsync("never", now, default)).Outcome);
        Assert.Equal(KeyStatus.Forgotten, (await store.GetAsync("never", default))!.Status);
    }

    [Fact]
    public async Task Concurrent_create_and_forget_never_resurrect_a_key()
    {
        var store = await fixture.NewStoreAsync();
        using var master = TestKeys.LocalMaster();
        for (int round = 0; round < 25; round++)
        {
            var user = $"race-{round}";
            await TestKeys.RaceCreatorsAgainstForgetAsync(store, master, user);

            var record = await store.GetAsync(user, default);
            Assert.Equal(KeyStatus.Forgotten, record!.Status);
            Assert.True(record.WrappedKey.IsEmpty);
            await Assert.ThrowsAsync<UserForgottenException>(() => TestKeys.Ring(store: store, master: master).Ring.GetOrCreateKeyAsync(user, default).AsTask());
        }
    }

    [Fact]
    public async Task Store_failures_are_typed_and_name_the_user()
    {
        var store = new DynamoDbKeyStore(fixture.Client, "no-such-table-" + Guid.NewGuid().ToString("N")[..8]);
        var ex = await Assert.ThrowsAsync<KeyStoreException>(() => store.GetAsync("u-5", default));
        Assert.Equal("u-5", ex.UserId);
        Assert.Equal("GetKey", ex.Operation);
        Assert.Contains("ResourceNotFoundException", ex.Message, StringComparison.Ordinal);
    }
}

public class DynamoDbBranchKeyStoreTests(DynaliteFixture dynalite) : IClassFixture<DynaliteFixture>
{
    [Fact]
    public async Task Branch_keys_live_in_the_key_table_beside_user_keys_and_rotate_conditionally()
    {
        var users = await dynalite.NewStoreAsync();
        var branches = new DynamoDbBranchKeyStore(dynalite.Client, users.TableName);
        using var local = new LocalMasterKeyProvider(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var options = new PrivacyOptions { KeyWrapping = KeyWrapping.Hierarchical, KeyTableName = users.TableName };
        using var rt = PrivacyRuntime.Create(options, users, local, branchKeys: branches);

        Assert.Null(await branches.GetActiveAsync("default", default));
        await rt.KeyRing.GetOrCreateKeyAsync("u-1", default);
        var v1 = await branches.GetActiveAsync("default", default);
        Assert.Equal(1, v1!.Version);
        Assert.Equal(local.MasterKeyId, v1.MasterKeyId);

        Assert.Equal(new BranchKeyRotation("default", 1, 2), await rt.BranchKeys!.RotateAsync());
        Assert.Equal(2, (await branches.GetActiveAsync("default", default))!.Version);
        Assert.NotNull(await branches.GetVersionAsync("default", 1, default));

        // A stale rotation (expects version 1 active) loses and gets the winner back.
        var stale = new BranchKeyRecord("default", 2, new byte[61], local.MasterKeyId, DateTimeOffset.UnixEpoch);
        Assert.Equal(2, (await branches.TryActivateAsync(stale with { Version = 3 }, 1, default)).Version);

        // A fresh process reads u-1's key through branch version 1, and the user key table item is an ordinary one.
        using var fresh = PrivacyRuntime.Create(options, users, local, branchKeys: branches);
        Assert.NotNull((await fresh.KeyRing.FindKeyAsync("u-1", default)).Key);
        Assert.Equal("branch:default", (await users.GetAsync("u-1", default))!.MasterKeyId);
    }
}
