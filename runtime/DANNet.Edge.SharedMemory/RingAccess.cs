namespace DANNet.Edge.SharedMemory;

/// <summary>
/// Who may read the masks: the ring file's mode and group, set explicitly by the writer (never
/// inherited from the umask). The ring's folder gets the matching traverse rights (0750 for 0640).
/// </summary>
/// <param name="Mode">Permission bits of the ring file: owner read-write, optionally group and/or other read (0600, 0640, 0644); nothing else.</param>
/// <param name="Group">The readers' group (name or gid) the ring and its folder are given; null: the writer's own group.</param>
public sealed record RingAccess(uint Mode = RingAccess.DefaultMode, string? Group = null)
{
    /// <summary>rw-r----- : the writer writes, its group reads, nobody else.</summary>
    public const uint DefaultMode = 0x1A0; // 0640

    /// <summary>Rejects modes that would let anyone but the writer change the ring, or that make it executable.</summary>
    public void Validate()
    {
        if ((Mode & ~0x1A4u) != 0 || (Mode & 0x180) != 0x180)
            throw new ArgumentException($"Ring mode {Convert.ToString(Mode, 8).PadLeft(4, '0')} is not allowed: the owner reads and writes (0600), " +
                "the group and others may only read (0640, 0644); nobody else may write and nothing is executable.");
    }

    /// <summary>The folder's mode: the owner's rwx, and r-x for whoever may read the ring.</summary>
    public uint DirectoryMode => 0x1C0u | ((Mode & 0x20) != 0 ? 0x28u : 0) | ((Mode & 0x4) != 0 ? 0x5u : 0);

    /// <summary>The group id to give the ring, or null to keep the writer's.</summary>
    public uint? GroupId()
    {
        if (string.IsNullOrEmpty(Group)) return null;
        return Posix.GroupId(Group) ?? throw new ArgumentException($"Ring readers' group '{Group}' does not exist on this machine (getent group {Group}).");
    }
}

/// <summary>
/// Whose ring a reader believes: the file's owner must be <see cref="OwnerUid"/> (or, when that is
/// not set, the reader's own user or root), the file and its folder must not be writable by anyone
/// else, and neither may be a symbolic link. Anything else could have been put there by another user.
/// </summary>
public sealed record RingTrust(uint? OwnerUid = null)
{
    /// <summary>Trust the user named <paramref name="nameOrUid"/> (a name or a number).</summary>
    public static RingTrust Owner(string nameOrUid) =>
        new(Posix.UserId(nameOrUid) ?? throw new ArgumentException($"No user '{nameOrUid}' on this machine to trust as the ring's writer."));

    /// <summary>Whether a file owned by <paramref name="uid"/> may be read as a ring.</summary>
    public bool Trusts(uint uid) => OwnerUid is { } expected ? uid == expected : uid == Posix.EffectiveUid() || uid == 0;

    public string Describe() => OwnerUid is { } expected ? Posix.DescribeUser(expected) : $"you ({Posix.DescribeUser(Posix.EffectiveUid())}) or root";
}
