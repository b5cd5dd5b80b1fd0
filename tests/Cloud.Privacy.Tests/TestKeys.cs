using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;

namespace Cloud.Privacy.Tests;

internal static class TestKeys
{
    public static UserDataKey Random(string userId = "u-1", int version = 1) =>
        new(userId, version, RandomNumberGenerator.GetBytes(UserDataKey.KeySize));

    public static LocalMasterKeyProvider LocalMaster() => new(RandomNumberGenerator.GetBytes(32));

    public static (UserKeyRing Ring, InMemoryKeyStore Store, FakeTimeProvider Time) Ring(TimeSpan? ttl = null, IKeyStore? store = null, LocalMasterKeyProvider? master = null, FakeTimeProvider? time = null)
    {
        time ??= new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var mem = store as InMemoryKeyStore ?? new InMemoryKeyStore();
        var ring = new UserKeyRing(store ?? mem, master ?? LocalMaster(), new DataKeyCache(time, ttl ?? TimeSpan.FromMinutes(5), 1000), time);
        return (ring, mem, time);
    }

    /// <summary>
    /// Four key rings (own caches) create <paramref name="user"/>'s key while a fifth forgets the user, all at once; a
    /// creator that loses the race to the forget sees <see cref="UserForgottenException"/>, which is the point.
    /// </summary>
    public static async Task RaceCreatorsAgainstForgetAsync(IKeyStore store, LocalMasterKeyProvider master, string user)
    {
        var creators = Enumerable.Range(0, 4).Select(_ => Ring(store: store, master: master).Ring).ToArray();
        var forgetter = Ring(store: store, master: master).Ring;
        var tasks = creators.Select(r => Task.Run(async () =>
        {
            try
            {
                await r.GetOrCreateKeyAsync(user, default);
            }
            catch (UserForgottenException)
            {
            }
        })).Append(Task.Run(() => forgetter.ForgetAsync(user, default))).ToArray();
        await Task.WhenAll(tasks);
    }
}
