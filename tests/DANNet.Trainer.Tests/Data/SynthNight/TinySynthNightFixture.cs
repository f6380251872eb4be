using DANNet.Trainer.Data.SynthNight;

namespace DANNet.Trainer.Tests.Data.SynthNight;

/// <summary>One tiny SynthNight set (seed 5), generated once for all tests that only read it.</summary>
public sealed class TinySynthNightFixture : IDisposable
{
    public const ulong Seed = 5;

    public TinySynthNightFixture()
    {
        Root = Path.Combine(Path.GetTempPath(), "dannet-tests", "synth-" + Guid.NewGuid().ToString("N"));
        new SynthNightGenerator(SynthScale.Tiny, Seed) { PreviewCount = 1 }.Generate(Root);
    }

    public string Root { get; }
    public string Cityscapes => Path.Combine(Root, SynthNightGenerator.CityscapesFolder);
    public string DarkZurich => Path.Combine(Root, SynthNightGenerator.DarkZurichFolder);

    /// <summary>A private, writable copy of the set for tests that damage it.</summary>
    public string CopyTo(string name)
    {
        string dest = Path.Combine(Path.GetTempPath(), "dannet-tests", name + "-" + Guid.NewGuid().ToString("N"));
        foreach (var file in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(dest, Path.GetRelativePath(Root, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return dest;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Tests on the tiny set. Not run in parallel with anything: training tests need libtorch's global
/// random generator and the process's memory to themselves to be exact.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TinySynthNightCollection : ICollectionFixture<TinySynthNightFixture>
{
    public const string Name = "tiny SynthNight";
}

/// <summary>Tests that measure the whole process (resident memory) and must run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}
