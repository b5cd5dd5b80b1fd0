using System.Diagnostics.CodeAnalysis;

// The KPL format's trailer is MD5 by definition; tests compute it independently to build expected bytes.
[assembly: SuppressMessage("Security", "CA5351:Do Not Use Broken Cryptographic Algorithms", Justification = "MD5 is part of the KPL wire format under test.")]
