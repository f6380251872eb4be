using DANNet.Model;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Contracts;
namespace DANNet.Edge.Configuration;

/// <summary>
/// The daemon's whole configuration, bound once at start from (later wins): built-in defaults,
/// the JSON file, <c>DANNET_EDGE_</c> environment variables (<c>DANNET_EDGE_Source__Uri</c>) and
/// the command line. <see cref="EdgeOptionsValidator"/> checks it before anything opens.
/// </summary>
public sealed record EdgeOptions
{
    public SourceOptions Source { get; init; } = new();

    /// <summary>
    /// Several cameras, by name (a ring each, <c>&lt;Output:Directory&gt;/&lt;name&gt;</c>), each with the keys of <see cref="Source"/>;
    /// empty: the one camera of <see cref="Source"/>, into the ring at <see cref="OutputOptions.Path"/>.
    /// </summary>
    public Dictionary<string, SourceOptions> Cameras { get; init; } = new(StringComparer.Ordinal);

    public ModelOptions Model { get; init; } = new();
    public OutputOptions Output { get; init; } = new();
    public MetricsOptions Metrics { get; init; } = new();
    public RunSettings Run { get; init; } = new();
}

/// <summary>Where frames come from (the URI forms are listed in README, "Frame sources").</summary>
public sealed record SourceOptions
{
    /// <summary>Frame source URI; empty: the embedded SynthNight night drive video.</summary>
    public string Uri { get; init; } = "";

    /// <summary>Start a file source again at its end (a camera-like endless stream).</summary>
    public bool Loop { get; init; } = true;

    /// <summary>Play files at their own frame rate, like a camera (false: as fast as they decode).</summary>
    public bool Realtime { get; init; } = true;

    /// <summary>Requested capture width/height/fps for cameras (0: the device's default).</summary>
    public int Width { get; init; }

    public int Height { get; init; }

    public double Fps { get; init; }

    /// <summary>Requested V4L2 pixel format, four characters (e.g. MJPG, YUYV); empty: the device's default.</summary>
    public string Fourcc { get; init; } = "";

    /// <summary>A read that takes longer than this is a timeout (then the source reconnects).</summary>
    public double TimeoutSeconds { get; init; } = 5;

    /// <summary>First wait before reconnecting a faulted source; doubles up to <see cref="ReconnectMaxSeconds"/>.</summary>
    public double ReconnectInitialSeconds { get; init; } = 0.5;

    public double ReconnectMaxSeconds { get; init; } = 30;

    /// <summary>
    /// The largest frame accepted (8K by default): a file or image whose header says more is refused (a file) or
    /// skipped and counted (an image of a folder) before it is decoded, so a small file cannot make the daemon
    /// allocate gigabytes; a network stream is scaled to at most this.
    /// </summary>
    public int MaxWidth { get; init; } = 7680;

    public int MaxHeight { get; init; } = 4320;
}

/// <summary>Where masks go, and who may read them (docs/shm-layout.md, "Security").</summary>
public sealed record OutputOptions
{
    /// <summary>The writer's own folder: created with the readers' traverse rights when missing; refused when another user owns it or can write to it.</summary>
    public string Directory { get; init; } = "/dev/shm/dannet-edge";

    /// <summary>The ring file: a name inside <see cref="Directory"/>, or a path directly in it.</summary>
    public string Path { get; init; } = "masks";

    /// <summary>The ring's permission bits, octal: 0640 (the group reads), 0600 (only the writer's user) or 0644 (every local user reads).</summary>
    public string Mode { get; init; } = "0640";

    /// <summary>The readers' group (name or gid) the ring and its folder are given; empty: the service user's own group.</summary>
    public string Group { get; init; } = "";

    public int Slots { get; init; } = 4;

    /// <summary>The ring file's full path (<see cref="Path"/> resolved inside <see cref="Directory"/>).</summary>
    public string RingPath => System.IO.Path.GetFullPath(Path, System.IO.Path.GetFullPath(Directory));

    /// <summary>The ring of camera <paramref name="name"/> when several are configured: <c>&lt;Directory&gt;/&lt;name&gt;</c>.</summary>
    public string CameraRingPath(string name) => System.IO.Path.Combine(System.IO.Path.GetFullPath(Directory), name);

    /// <summary>The mode and group the writer gives the ring.</summary>
    public RingAccess Access() => new(Convert.ToUInt32(Mode, 8), Group.Length > 0 ? Group : null);
}

/// <summary>The optional Prometheus endpoint (off by default).</summary>
public sealed record MetricsOptions
{
    /// <summary>TCP port of <c>http://Address:Port/metrics</c>; 0 (the default) serves nothing.</summary>
    public int Port { get; init; }

    /// <summary>The address it listens on: loopback by default, so only this machine can scrape it.</summary>
    public string Address { get; init; } = "127.0.0.1";
}

/// <summary>How long to run and how often to report.</summary>
public sealed record RunSettings
{
    /// <summary>Stop after this many published frames (0: until stopped).</summary>
    public long Frames { get; init; }

    /// <summary>Seconds between statistics log lines.</summary>
    public double StatsIntervalSeconds { get; init; } = 5;
}
