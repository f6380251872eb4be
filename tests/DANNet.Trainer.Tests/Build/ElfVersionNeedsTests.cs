namespace DANNet.Trainer.Tests.Build;

/// <summary>The build's ELF patch (build/ElfVersionNeedPatcher.cs) on the real TorchSharp native library.</summary>
public sealed class ElfVersionNeedsTests
{
    private const string Needed = "GLIBCXX_3.4.32";

    private static string BuiltLibrary() => Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");

    /// <summary>
    /// The library as TorchSharp's package ships it, rebuilt from the build's copy by clearing the one flag the build set (the patch
    /// changes nothing else, which the test below proves on this very copy): no dependence on where the NuGet cache is.
    /// </summary>
    private static byte[] UnpatchedLibrary()
    {
        byte[] elf = File.ReadAllBytes(BuiltLibrary());
        var entry = ElfVersionNeeds.Read(elf, BuiltLibrary()).Single(e => e.Version == Needed);
        ushort flags = (ushort)(entry.Flags & ~ElfVersionNeeds.VerFlagWeak);
        elf[entry.FlagsOffset] = (byte)(flags & 0xff);
        elf[entry.FlagsOffset + 1] = (byte)(flags >> 8);
        return elf;
    }

    [Fact]
    public void The_copied_library_in_the_output_has_a_weak_GLIBCXX_3_4_32_need()
    {
        string built = BuiltLibrary();
        var needs = ElfVersionNeeds.Read(File.ReadAllBytes(built), built);
        var entry = Assert.Single(needs, e => e.Version == Needed);
        Assert.True(entry.IsWeak);
        Assert.Contains(needs, e => e.Version.StartsWith("GLIBCXX_3.4.") && !e.IsWeak);
    }

    [Fact]
    public void Weakening_changes_only_the_flag_of_the_named_version_and_is_idempotent()
    {
        string copy = Path.Combine(Path.GetTempPath(), $"libLibTorchSharp-{Guid.NewGuid():N}.so");
        File.WriteAllBytes(copy, UnpatchedLibrary());
        try
        {
            byte[] before = File.ReadAllBytes(copy);
            Assert.False(ElfVersionNeeds.Read(before, copy).Single(e => e.Version == Needed).IsWeak);

            Assert.Equal([Needed], ElfVersionNeeds.WeakenFile(copy, [Needed]));
            Assert.Empty(ElfVersionNeeds.WeakenFile(copy, [Needed]));

            byte[] after = File.ReadAllBytes(copy);
            Assert.Equal(before.Length, after.Length);
            var changedBytes = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
            var entry = ElfVersionNeeds.Read(after, copy).Single(e => e.Version == Needed);
            Assert.Equal([entry.FlagsOffset], changedBytes);
            Assert.True(entry.IsWeak);
            var otherBefore = ElfVersionNeeds.Read(before, copy).Where(e => e.Version != Needed).Select(e => (e.Version, e.Flags));
            var otherAfter = ElfVersionNeeds.Read(after, copy).Where(e => e.Version != Needed).Select(e => (e.Version, e.Flags));
            Assert.Equal(otherBefore, otherAfter);
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void A_file_that_is_not_ELF_is_refused_with_its_name()
    {
        var ex = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read("#!/bin/sh\necho not a library\n"u8.ToArray().Concat(new byte[64]).ToArray(), "script.so"));
        Assert.Contains("script.so", ex.Message);
    }

    [Fact]
    public void A_truncated_ELF_file_is_refused_not_misread()
    {
        byte[] head = UnpatchedLibrary().Take(4096).ToArray();
        var ex = Assert.Throws<InvalidDataException>(() => ElfVersionNeeds.Read(head, "cut.so"));
        Assert.Contains("cut.so", ex.Message);
    }
}
