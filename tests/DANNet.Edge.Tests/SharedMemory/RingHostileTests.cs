using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using DANNet.Edge.Cli;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Tap;
using Xunit.Abstractions;

namespace DANNet.Edge.Tests.SharedMemory;

/// <summary>
/// Runs a command as another local user (nobody, uid 65534) with <c>setpriv</c>, the way an
/// unprivileged attacker on the car would act. The tests that use it run as root (CI does); the
/// writer under attack is this (root) process.
/// </summary>
internal static class OtherUser
{
    public const uint Uid = 65534;

    public static (int Code, string Output) Run(string shell)
    {
        var info = new ProcessStartInfo("setpriv") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { $"--reuid={Uid}", $"--regid={Uid}", "--clear-groups", "sh", "-c", shell }) info.ArgumentList.Add(a);
        using var p = Process.Start(info)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(30_000), $"'{shell}' as uid {Uid} did not finish");
        return (p.ExitCode, output);
    }
}

/// <summary>
/// The ring under attack by another local user (docs/shm-layout.md, "Security"): a folder or ring
/// made first, symlinks and files planted where the writer works, forged rings for readers, a mode
/// the umask would have loosened. <c>fs.protected_symlinks</c> is 0 on these machines, so nothing
/// here leans on the kernel's own protection.
/// </summary>
[Collection(RingProcessCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RingHostileTests(ITestOutputHelper log) : IDisposable
{
    /// <summary>A stand-in for /dev/shm: root's, sticky and world-writable.</summary>
    private readonly string _shm = MakeShm();

    private string Folder => Path.Combine(_shm, "dannet-edge");
    private string Ring => Path.Combine(Folder, "masks");

    private static string MakeShm()
    {
        string dir = Directory.CreateTempSubdirectory("dannet-shm-").FullName;
        File.SetUnixFileMode(dir, (UnixFileMode)Convert.ToInt32("1777", 8));
        return dir;
    }

    public void Dispose() => Directory.Delete(_shm, true);

    private static RingGeometry Geometry => new(2, 8, 4, 19);

    private static MaskRingWriter Create(string path, RingAccess? access = null) =>
        MaskRingWriter.Create(path, Geometry, DANNet.Edge.Tap.TestPattern.Description(), access);

    [Fact]
    public void A_folder_another_user_made_first_is_refused_and_nothing_is_written_into_it()
    {
        var (code, text) = OtherUser.Run($"mkdir -m 0777 {Folder}");
        Assert.True(code == 0, text);
        var ex = Assert.Throws<IOException>(() => Create(Ring));
        Assert.Contains($"belongs to nobody (uid {OtherUser.Uid})", ex.Message);
        Assert.Contains("someone else made it first", ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(Folder));
    }

    [Fact]
    public void A_symlink_planted_at_the_folder_is_never_followed_and_its_target_is_untouched()
    {
        string victim = Path.Combine(_shm, "victim");
        Directory.CreateDirectory(victim);
        File.SetUnixFileMode(victim, (UnixFileMode)Convert.ToInt32("700", 8));
        File.WriteAllText(Path.Combine(victim, "masks"), "root's data");
        var (code, text) = OtherUser.Run($"ln -s {victim} {Folder}");
        Assert.True(code == 0, text);
        var ex = Assert.Throws<IOException>(() => Create(Ring));
        Assert.Contains("is a symbolic link: refused", ex.Message);
        Assert.Equal("root's data", File.ReadAllText(Path.Combine(victim, "masks")));
        Assert.Equal(["masks"], Directory.EnumerateFileSystemEntries(victim).Select(Path.GetFileName));
    }

    [Fact]
    public void Inside_the_writers_folder_another_user_can_plant_nothing_and_cannot_write_the_ring()
    {
        using var writer = Create(Ring);
        TestPattern.PublishNext(writer);
        // The old attack: spray symlinks and files at the names the writer uses. The folder is the writer's: every one fails.
        foreach (string name in new[] { "masks.tmp-1", ".masks.new-0", "masks.lock", "masks" })
        {
            var (code, text) = OtherUser.Run($"ln -s /etc/passwd {Path.Combine(Folder, name)}");
            Assert.True(code != 0, $"nobody planted {name}: {text}");
            Assert.Contains("Permission denied", text);
        }
        var write = OtherUser.Run($"printf forged >> {Ring}");
        Assert.True(write.Code != 0, write.Output);
        var read = OtherUser.Run($"head -c 8 {Ring}");
        Assert.True(read.Code != 0, "nobody (not in the readers' group) read the masks: " + read.Output);
        var st = Posix.Lstat(Posix.AtFdCwd, Ring)!.Value;
        Assert.Equal((0u, Convert.ToUInt32("640", 8)), (st.Uid, st.Permissions));
        Assert.Equal(Convert.ToUInt32("750", 8), Posix.Lstat(Posix.AtFdCwd, Folder)!.Value.Permissions);
    }

    [Fact]
    public void Mode_and_group_are_set_explicitly_whatever_the_umask()
    {
        // A writer process with umask 000 and the readers' group 'nogroup': the ring is still 0640, its folder 0750.
        var (code, text) = RingProcesses.Finish(RingProcesses.Start("sh", "-c", $"umask 000 && exec dotnet {RingProcesses.EdgeDll} publish-test-pattern " +
            $"--path {Ring} --frames 2 --fps 0 --group nogroup --width 8 --height 4"));
        Assert.True(code == 0, text);
        uint nogroup = Posix.GroupId("nogroup")!.Value;
        var ring = Posix.Lstat(Posix.AtFdCwd, Ring)!.Value;
        var folder = Posix.Lstat(Posix.AtFdCwd, Folder)!.Value;
        Assert.Equal((Convert.ToUInt32("640", 8), nogroup), (ring.Permissions, ring.Gid));
        Assert.Equal((Convert.ToUInt32("750", 8), nogroup), (folder.Permissions, folder.Gid));
        Assert.Equal(Convert.ToUInt32("600", 8), Posix.Lstat(Posix.AtFdCwd, Ring + ".lock")!.Value.Permissions);
        // A mode that lets others write is refused before anything is made.
        Assert.Throws<ArgumentException>(() => Create(Path.Combine(_shm, "other", "masks"), new RingAccess(Convert.ToUInt32("666", 8))));
        Assert.False(Directory.Exists(Path.Combine(_shm, "other")));
    }

    /// <summary>
    /// Round 2, item 1: flock works on a read-only descriptor, so a reader who could open the lock could wait in
    /// flock, be handed the lock when the writer exits, and keep every restart out. The lock is the writer's alone.
    /// </summary>
    [Fact]
    public void A_reader_cannot_open_the_writer_lock_so_a_restarted_writer_always_gets_it()
    {
        var everyone = new RingAccess(Convert.ToUInt32("644", 8));   // ring and folder readable by any user
        using (var writer = Create(Ring, everyone))
        {
            TestPattern.PublishNext(writer);
            var read = OtherUser.Run($"head -c 8 {Ring}");
            Assert.True(read.Code == 0, "the 0644 ring should be readable by anyone: " + read.Output);
            var grab = OtherUser.Run($"exec 3<'{Ring}.lock' && flock -w 1 3 && echo held");
            Assert.True(grab.Code != 0, "nobody opened the writer lock: " + grab.Output);
            Assert.Contains("Permission denied", grab.Output);
        }
        Assert.Equal(Convert.ToUInt32("600", 8), Posix.Lstat(Posix.AtFdCwd, Ring + ".lock")!.Value.Permissions);
        using (var again = Create(Ring, everyone)) TestPattern.PublishNext(again);
    }

    /// <summary>
    /// Round 2, item 10: a symbolic link another user plants above the writer's folder is never followed (it sent
    /// root's ring into /root/victim); one root made is (as /var/run → /run).
    /// </summary>
    [Fact]
    public void A_link_another_user_planted_above_the_folder_is_refused_and_one_root_made_is_followed()
    {
        string victim = Path.Combine(_shm, "victim");
        Directory.CreateDirectory(victim);
        File.SetUnixFileMode(victim, (UnixFileMode)Convert.ToInt32("700", 8));
        var (code, text) = OtherUser.Run($"ln -s {victim} {Path.Combine(_shm, "pp")}");
        Assert.True(code == 0, text);
        var ex = Assert.Throws<IOException>(() => Create(Path.Combine(_shm, "pp", "ring", "masks")));
        Assert.Contains($"'{Path.Combine(_shm, "pp")}' (on the way to the ring", ex.Message);
        Assert.Contains($"belongs to nobody (uid {OtherUser.Uid})", ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(victim));

        string real = Path.Combine(_shm, "real");
        Directory.CreateDirectory(real);
        File.CreateSymbolicLink(Path.Combine(_shm, "trusted"), real);
        using (var writer = Create(Path.Combine(_shm, "trusted", "ring", "masks"))) TestPattern.PublishNext(writer);
        Assert.True(File.Exists(Path.Combine(real, "ring", "masks")));
    }

    /// <summary>Round 2, item 11: mask values that are no class (200 of 19) are damage to both readers, counted, never handed on.</summary>
    [Fact]
    public void Mask_values_outside_the_classes_are_counted_as_damage_by_both_readers()
    {
        using var writer = Create(Ring);
        var mask = new byte[Geometry.MaskBytes];
        mask[5] = 255;   // "no prediction" is a valid value
        writer.Publish(mask, MonotonicClock.NowNs);
        using (var reader = MaskRingReader.Open(Ring))
        {
            var copy = new byte[Geometry.MaskBytes];
            Assert.Equal(ReadStatus.Frame, reader.TryReadLatest(copy, out _));
            mask[7] = 200;
            writer.Publish(mask, MonotonicClock.NowNs);
            Assert.Equal(ReadStatus.InvalidValues, reader.TryReadLatest(copy, out _));
            Assert.Equal(1, reader.InvalidFrames);
        }
        var python = RingProcesses.Python("--path", Ring, "--any-writer", "--frames", "1", "--seconds", "2");
        Assert.Equal(2, python.Code);
        Assert.Contains("invalid frames 1 (values that are no class)", python.Output);
        var tap = RingProcesses.Edge("tap", "--path", Ring, "--any-writer", "--frames", "1", "--seconds", "2");
        Assert.Equal(2, tap.Code);
        Assert.Contains("invalid frames 1 (values that are no class)", tap.Output);
    }

    /// <summary>Round 2, item 17: the writer's own folder gets the mode and group its readers need, whoever made it and how.</summary>
    [Fact]
    public void An_existing_folder_of_the_writer_gets_the_rings_mode_and_group()
    {
        uint nogroup = Posix.GroupId("nogroup")!.Value;
        Directory.CreateDirectory(Folder);
        File.SetUnixFileMode(Folder, (UnixFileMode)Convert.ToInt32("700", 8));   // would shut the readers' group out
        using (var writer = Create(Ring, new RingAccess(RingAccess.DefaultMode, "nogroup"))) TestPattern.PublishNext(writer);
        var folder = Posix.Lstat(Posix.AtFdCwd, Folder)!.Value;
        Assert.Equal((Convert.ToUInt32("750", 8), nogroup), (folder.Permissions, folder.Gid));
        // And back: a folder of another group, made by this user, is given the writer's group when no readers' group is named.
        using (var writer = Create(Ring)) TestPattern.PublishNext(writer);
        folder = Posix.Lstat(Posix.AtFdCwd, Folder)!.Value;
        Assert.Equal(Posix.EffectiveGid(), folder.Gid);
        var ring = Posix.Lstat(Posix.AtFdCwd, Ring)!.Value;
        Assert.Equal(folder.Gid, ring.Gid);
    }

    [Fact]
    public void What_is_at_the_ring_path_is_replaced_only_when_it_is_this_users_ring_or_a_leftover()
    {
        Directory.CreateDirectory(Folder);
        File.SetUnixFileMode(Folder, (UnixFileMode)Convert.ToInt32("750", 8));
        var header = new byte[ShmLayout.HeaderSize];
        BinaryPrimitives.WriteUInt64LittleEndian(header, ShmLayout.Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), ShmLayout.Version + 1);
        File.WriteAllBytes(Ring, header);
        Assert.Contains($"layout version {ShmLayout.Version + 1}, newer than this writer's {ShmLayout.Version}", Assert.Throws<IOException>(() => Create(Ring)).Message);
        File.WriteAllBytes(Ring, new byte[ShmLayout.HeaderSize]);
        Assert.Contains("is not a mask ring (no DNETMASK magic): refused", Assert.Throws<IOException>(() => Create(Ring)).Message);
        File.Delete(Ring);
        Directory.CreateDirectory(Ring);
        Assert.Contains("is not a regular file (a folder)", Assert.Throws<IOException>(() => Create(Ring)).Message);
        Directory.Delete(Ring);
        File.CreateSymbolicLink(Ring, "/etc/passwd");
        Assert.Contains("(a symbolic link)", Assert.Throws<IOException>(() => Create(Ring)).Message);
        File.Delete(Ring);
        File.WriteAllBytes(Ring, new byte[100]); // a leftover shorter than a header (a truncated ring): replaced
        using (var writer = Create(Ring)) TestPattern.PublishNext(writer);
        using (var again = Create(Ring)) Assert.Equal(0UL, again.Published); // this user's stopped ring: replaced
        // A crashed writer's half-made file is cleaned up by the next one.
        File.WriteAllBytes(Path.Combine(Folder, ".masks.new-deadbeef"), [1, 2, 3]);
        using (Create(Ring)) Assert.False(File.Exists(Path.Combine(Folder, ".masks.new-deadbeef")));
    }

    [Fact]
    public void Readers_refuse_rings_they_have_no_reason_to_trust_and_say_why()
    {
        using (var writer = Create(Ring)) TestPattern.PublishNext(writer);
        using (var ok = MaskRingReader.Open(Ring)) Assert.Equal(0u, ok.OwnerUid);

        // Another user's ring, in another user's folder (a squatter's): refused unless that user is the one trusted.
        string squat = Path.Combine(_shm, "squat");
        Directory.CreateDirectory(squat);
        File.Copy(Ring, Path.Combine(squat, "masks"));
        Assert.True(OtherUser.Run("true").Code == 0);
        foreach (var path in new[] { squat, Path.Combine(squat, "masks") })
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(path == squat ? "755" : "644", 8));
        Chown(squat, OtherUser.Uid);
        Chown(Path.Combine(squat, "masks"), OtherUser.Uid);
        var refused = Assert.Throws<InvalidDataException>(() => MaskRingReader.Open(Path.Combine(squat, "masks")));
        Assert.Contains($"belongs to nobody (uid {OtherUser.Uid}), not to you", refused.Message);
        using (var trusted = MaskRingReader.Open(Path.Combine(squat, "masks"), RingTrust.Owner("nobody"))) Assert.Equal(OtherUser.Uid, trusted.OwnerUid);
        var python = RingProcesses.Python("--path", Path.Combine(squat, "masks"), "--seconds", "0.3", "--any-writer");
        Assert.Equal(0, python.Code);
        Assert.Contains($"belongs to nobody (uid {OtherUser.Uid}), not to you", python.Output);

        // A ring others can write to, or one in a folder others can write to, could be forged: refused.
        File.SetUnixFileMode(Ring, (UnixFileMode)Convert.ToInt32("666", 8));
        Assert.Contains("can be written by its group or by anyone", Assert.Throws<InvalidDataException>(() => MaskRingReader.Open(Ring)).Message);
        Assert.Contains("can be written by its group or by anyone", RingProcesses.Python("--path", Ring, "--seconds", "0.3").Output);
        File.SetUnixFileMode(Ring, (UnixFileMode)Convert.ToInt32("640", 8));
        string open = Path.Combine(_shm, "loose");
        File.Copy(Ring, open);
        Assert.Contains("not a folder that only the ring's owner", Assert.Throws<InvalidDataException>(() => MaskRingReader.Open(open)).Message);
        Assert.Contains("not a folder that only the ring's owner", RingProcesses.Python("--path", open, "--seconds", "0.3").Output);

        // A symlink to the real ring: readers do not follow it.
        string link = Path.Combine(Folder, "link");
        File.CreateSymbolicLink(link, Ring);
        Assert.Contains("is a symbolic link", Assert.Throws<InvalidDataException>(() => MaskRingReader.Open(link)).Message);
        Assert.Contains("is a symbolic link", RingProcesses.Python("--path", link, "--seconds", "0.3").Output);
        log.WriteLine(refused.Message);
    }

    [Fact]
    public void Of_three_writers_started_together_exactly_one_runs_every_time()
    {
        for (int trial = 0; trial < 5; trial++)
        {
            var writers = Enumerable.Range(0, 3).Select(_ => RingProcesses.Start("dotnet", RingProcesses.EdgeDll, "publish-test-pattern", "--path", Ring,
                "--seconds", "2", "--width", "8", "--height", "4")).ToList();
            var results = writers.Select(RingProcesses.Finish).ToList();
            log.WriteLine(string.Join(" | ", results.Select(r => $"{r.Code}: {r.Output.Trim()}")));
            Assert.Single(results, r => r.Code == 0);
            Assert.Equal(2, results.Count(r => r.Code == 1 && r.Output.Contains("Another writer (pid ", StringComparison.Ordinal)));
        }
    }

    private static void Chown(string path, uint uid)
    {
        var p = Process.Start("chown", [uid.ToString(System.Globalization.CultureInfo.InvariantCulture), path])!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
