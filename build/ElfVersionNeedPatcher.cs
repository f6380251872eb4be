// Weakens chosen symbol-version requirements of ELF shared libraries after they are copied to
// an output folder. Used by Directory.Build.targets through RoslynCodeTaskFactory, and compiled
// into the test project (with ELF_PATCHER_TESTS defined) so the ELF logic is unit-tested.
//
// Why: TorchSharp 0.107.0's libLibTorchSharp.so lists GLIBCXX_3.4.32 as a needed version only for
// one unused marker symbol; Debian 12's libstdc++ stops at 3.4.30, so dlopen fails. Setting
// VER_FLG_WEAK on that version-need entry makes the loader accept a missing version instead of
// refusing the library. The change is two bytes, idempotent, and harmless where the version exists.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

public static class ElfVersionNeeds
{
    public const ushort VerFlagWeak = 0x2;
    private const uint ShtGnuVerneed = 0x6ffffffe;

    /// <summary>One version-need entry: the library that provides it, the version name and its flags.</summary>
    public sealed class Entry
    {
        public Entry(string file, string version, ushort flags, int flagsOffset)
        {
            File = file; Version = version; Flags = flags; FlagsOffset = flagsOffset;
        }
        public string File { get; }
        public string Version { get; }
        public ushort Flags { get; }
        public int FlagsOffset { get; }
        public bool IsWeak => (Flags & VerFlagWeak) != 0;
    }

    /// <summary>Reads the version needs (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF image.</summary>
    public static List<Entry> Read(byte[] elf, string nameForErrors)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException(nameForErrors + ": not an ELF file.");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException(nameForErrors + ": only 64-bit little-endian ELF is supported (EI_CLASS=" + elf[4] + ", EI_DATA=" + elf[5] + ").");

        long shoff = (long)U64(elf, 0x28, nameForErrors);
        int shentsize = U16(elf, 0x3A, nameForErrors);
        int shnum = U16(elf, 0x3C, nameForErrors);
        var result = new List<Entry>();
        for (int i = 0; i < shnum; i++)
        {
            int sh = Checked(shoff + (long)i * shentsize, elf, 64, nameForErrors);
            if (U32(elf, sh + 4, nameForErrors) != ShtGnuVerneed) continue;
            int offset = Checked((long)U64(elf, sh + 0x18, nameForErrors), elf, 0, nameForErrors);
            int link = (int)U32(elf, sh + 0x28, nameForErrors);
            int count = (int)U32(elf, sh + 0x2C, nameForErrors);
            int strSh = Checked(shoff + (long)link * shentsize, elf, 64, nameForErrors);
            int strOff = Checked((long)U64(elf, strSh + 0x18, nameForErrors), elf, 0, nameForErrors);

            int need = offset;
            for (int n = 0; n < count; n++)
            {
                int cnt = U16(elf, need + 2, nameForErrors);
                string file = CString(elf, strOff + (int)U32(elf, need + 4, nameForErrors), nameForErrors);
                int aux = need + (int)U32(elf, need + 8, nameForErrors);
                for (int a = 0; a < cnt; a++)
                {
                    ushort flags = U16(elf, aux + 4, nameForErrors);
                    string version = CString(elf, strOff + (int)U32(elf, aux + 8, nameForErrors), nameForErrors);
                    result.Add(new Entry(file, version, flags, aux + 4));
                    aux += (int)U32(elf, aux + 12, nameForErrors);
                }
                uint next = U32(elf, need + 12, nameForErrors);
                if (next == 0) break;
                need += (int)next;
            }
        }
        return result;
    }

    /// <summary>
    /// Sets VER_FLG_WEAK on every needed version whose name is in <paramref name="versions"/>.
    /// Returns the names it changed (empty when already weak or absent). Writes atomically.
    /// </summary>
    public static List<string> WeakenFile(string path, ICollection<string> versions)
    {
        byte[] elf = File.ReadAllBytes(path);
        var changed = new List<string>();
        foreach (var e in Read(elf, path).Where(e => versions.Contains(e.Version) && !e.IsWeak))
        {
            ushort flags = (ushort)(e.Flags | VerFlagWeak);
            elf[e.FlagsOffset] = (byte)(flags & 0xff);
            elf[e.FlagsOffset + 1] = (byte)(flags >> 8);
            changed.Add(e.Version);
        }
        if (changed.Count == 0) return changed;

        string temp = path + ".weaken.tmp";
        File.WriteAllBytes(temp, elf);
        File.Replace(temp, path, null); // rename over the original: never a half-written library
        return changed;
    }

    private static int Checked(long offset, byte[] elf, int length, string name)
    {
        if (offset < 0 || offset + length > elf.Length)
            throw new InvalidDataException(name + ": ELF offset " + offset + " lies outside the file (" + elf.Length + " bytes); the file is truncated or corrupt.");
        return (int)offset;
    }

    private static ushort U16(byte[] b, int o, string name) { Checked(o, b, 2, name); return (ushort)(b[o] | b[o + 1] << 8); }
    private static uint U32(byte[] b, int o, string name) { Checked(o, b, 4, name); return BitConverter.ToUInt32(b, o); }
    private static ulong U64(byte[] b, int o, string name) { Checked(o, b, 8, name); return BitConverter.ToUInt64(b, o); }

    private static string CString(byte[] b, int o, string name)
    {
        Checked(o, b, 1, name);
        int end = Array.IndexOf(b, (byte)0, o);
        if (end < 0) throw new InvalidDataException(name + ": unterminated string in the ELF string table.");
        return Encoding.ASCII.GetString(b, o, end - o);
    }
}

#if !ELF_PATCHER_TESTS
/// <summary>MSBuild task: weaken the listed version needs in each of <see cref="Files"/>.</summary>
public sealed class WeakenElfVersionNeeds : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required]
    public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

    [Microsoft.Build.Framework.Required]
    public string Versions { get; set; } = "";

    public override bool Execute()
    {
        var versions = new HashSet<string>(Versions.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries).Select(v => v.Trim()));
        foreach (var item in Files)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                var changed = ElfVersionNeeds.WeakenFile(path, versions);
                if (changed.Count > 0)
                    Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High, "Weakened ELF version need " + string.Join(", ", changed) + " in " + path);
            }
            catch (Exception ex) when (ex is IOException || ex is InvalidDataException || ex is UnauthorizedAccessException)
            {
                Log.LogError("Could not weaken ELF version needs of '" + path + "': " + ex.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }
}
#endif
