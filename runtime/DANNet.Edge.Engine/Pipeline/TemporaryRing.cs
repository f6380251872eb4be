using DANNet.Model;
using DANNet.Edge.Contracts;
using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Pipeline;

/// <summary>
/// A ring in a private temporary folder (mode 0700, this user's), for runs that need the pipeline's real output
/// path but no readers — replay without --ring, bench. The folder goes with it.
/// </summary>
public sealed class TemporaryRing : IDisposable
{
    private readonly string _folder;

    private TemporaryRing(string folder, MaskRingWriter writer)
    {
        _folder = folder;
        Writer = writer;
    }

    public MaskRingWriter Writer { get; }

    public static TemporaryRing Create(RingGeometry geometry, RingDescription description)
    {
        string folder = NewFolder();
        try
        {
            return new TemporaryRing(folder, MaskRingWriter.Create(Path.Combine(folder, "masks"), geometry, description));
        }
        catch
        {
            Directory.Delete(folder, true);
            throw;
        }
    }

    /// <summary>A 4-slot ring for <paramref name="info"/>'s masks.</summary>
    /// <summary>
    /// A new private folder (0700) for the ring: in /dev/shm where there is one, as the daemon's rings are — a ring mapped from a disk-backed
    /// file system pays for the kernel's write-back (page faults on write after each flush), which a measurement must not include.
    /// </summary>
    private static string NewFolder()
    {
        const string shm = "/dev/shm";
        if (!Directory.Exists(shm)) return Directory.CreateTempSubdirectory("dannet-ring-").FullName;
        // Created exclusively: the folder is this process's own, never one planted for it.
        return PrivateFolder.Create(shm, "dannet-ring-");
    }

    public static TemporaryRing For(ModelInfo info) => Create(Geometry(info), Describe(info));

    /// <summary>A 4-slot ring's geometry for <paramref name="info"/>'s masks.</summary>
    public static RingGeometry Geometry(ModelInfo info) => new(4, info.Width, info.Height, info.Classes.Count);

    /// <summary>What a ring says about the model that fills it.</summary>
    public static RingDescription Describe(ModelInfo info) => new(info.Architecture, info.Classes, info.Palette);

    public void Dispose()
    {
        Writer.Dispose();
        Directory.Delete(_folder, true);
    }
}
