using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;

namespace DANNet.Edge.SharedMemory;

/// <summary>
/// A whole file mapped into memory with a raw pointer to it, and the little-endian, ordered
/// accessors the seqlock protocol needs (plain, acquire and release reads and writes).
/// </summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;

    private MappedFile(MemoryMappedFile map, MemoryMappedViewAccessor view, long length)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The ring buffer layout is little-endian.");
        _map = map;
        _view = view;
        Length = length;
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + view.PointerOffset;
    }

    public long Length { get; }

    public static MappedFile Open(FileStream stream, bool writable)
    {
        long length = stream.Length;
        var access = writable ? MemoryMappedFileAccess.ReadWrite : MemoryMappedFileAccess.Read;
        var map = MemoryMappedFile.CreateFromFile(stream, null, 0, access, HandleInheritability.None, leaveOpen: false);
        try
        {
            return new MappedFile(map, map.CreateViewAccessor(0, length, access), length);
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    public byte* Pointer(long offset) => _base + offset;

    public Span<byte> Bytes(long offset, int length) => new(_base + offset, length);

    public uint ReadUInt32(long offset) => Unsafe.ReadUnaligned<uint>(_base + offset);

    public ulong ReadUInt64(long offset) => Unsafe.ReadUnaligned<ulong>(_base + offset);

    public void WriteUInt32(long offset, uint value) => Unsafe.WriteUnaligned(_base + offset, value);

    public void WriteUInt64(long offset, ulong value) => Unsafe.WriteUnaligned(_base + offset, value);

    /// <summary>A read no later read or write is moved before (every field used this way is 8-byte aligned).</summary>
    public ulong ReadAcquire(long offset) => Volatile.Read(ref *(ulong*)(_base + offset));

    /// <summary>A write no earlier read or write is moved after.</summary>
    public void WriteRelease(long offset, ulong value) => Volatile.Write(ref *(ulong*)(_base + offset), value);

    public void Dispose()
    {
        if (_base is null) return;
        _base = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
