using System.Globalization;

namespace Cloud.IntegrationTests.Harness;

/// <summary>Reads the kernel's table of listening TCP sockets (Linux /proc/net/tcp and tcp6).</summary>
internal static class ListeningSockets
{
    public static bool Supported => OperatingSystem.IsLinux() && File.Exists("/proc/net/tcp");

    /// <summary>Local addresses with a socket in LISTEN state on <paramref name="port"/> (e.g. "127.0.0.1", "0.0.0.0", "::").</summary>
    public static IReadOnlyList<string> AddressesListeningOn(int port)
    {
        var found = new List<string>();
        foreach (var (file, v6) in new[] { ("/proc/net/tcp", false), ("/proc/net/tcp6", true) })
        {
            if (!File.Exists(file))
            {
                continue;
            }

            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 4 || fields[3] != "0A")
                {
                    continue; // not LISTEN
                }

                var local = fields[1].Split(':');
                if (int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                {
                    found.Add(v6 ? FormatV6(local[0]) : FormatV4(local[0]));
                }
            }
        }

        return found;
    }

    private static string FormatV4(string hex)
    {
        var value = uint.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return string.Join('.', BitConverter.GetBytes(value)); // stored in host (little-endian) order
    }

    private static string FormatV6(string hex)
    {
        var bytes = new byte[16];
        for (var word = 0; word < 4; word++)
        {
            var value = uint.Parse(hex.AsSpan(word * 8, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            BitConverter.GetBytes(value).CopyTo(bytes, word * 4);
        }

        return new System.Net.IPAddress(bytes).ToString();
    }
}
