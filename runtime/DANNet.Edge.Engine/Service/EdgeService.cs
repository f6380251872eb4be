using DANNet.Model;
using System.Globalization;
using System.Reactive.Linq;
using DANNet.Edge.Configuration;
using DANNet.Edge.Contracts;
using DANNet.Edge.Pipeline;
using DANNet.Edge.SharedMemory;
using DANNet.Edge.Sources;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace DANNet.Edge.Service;

/// <summary>
/// The daemon: opens the model (first working provider) and warms it up, creates the ring, opens
/// the source, then runs the pipeline until the source ends, fails or the host stops. Start-up work
/// happens in <see cref="StartAsync"/>, so systemd hears READY=1 only once the first mask is published
/// (or the source is being reconnected); a watchdog ping (WATCHDOG=1) is sent only while masks are
/// being published or the capture thread is visibly reconnecting (<see cref="Liveness"/>), and
/// STATUS= says provider, fps, the source's state and reconnects.
/// </summary>
public sealed class EdgeService(EdgeOptions options, IHostApplicationLifetime lifetime, ILogger<EdgeService> log, ISystemdNotifier? notifier = null) : IHostedService, IDisposable
{
    private readonly TaskCompletionSource _flowing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _statusLock = new();
    private string? _statusState;
    private long _publishedAtLastStatus;
    private long _lastStatusNs = (long)MonotonicClock.NowNs;
    private SegmentationSession? _session;
    private readonly List<MaskRingWriter> _rings = [];
    private readonly List<IFrameSource> _sources = [];
    private CameraPipeline? _pipeline;
    private IDisposable? _subscription;
    private Timer? _statsTimer;
    private Timer? _watchdog;
    private MetricsEndpoint? _metrics;
    private long _lastProgressNs;
    private long _startedNs = (long)MonotonicClock.NowNs;
    private long _droppedAtLastReport;

    /// <summary>0 when the run ended normally (end of stream, frame limit, stop), 1 when it failed, 3 when it ended but input was damaged and skipped.</summary>
    public int ExitCode { get; private set; }

    /// <summary>The exit code of a run that reached its end over damaged input (frames that could not be decoded were skipped).</summary>
    public const int DamagedInput = 3;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        string modelPath = options.Model.Path.Length > 0 ? options.Model.Path : EdgeDefaults.ModelPath;
        // The sources are checked first (their URIs, files that must exist): a mistake there must not cost a model load or touch a ring.
        var cameras = Cameras();
        foreach (var (_, sourceOptions, _) in cameras) _sources.Add(FrameSourceFactory.Create(sourceOptions));
        Notify("STATUS=loading model");
        // A TensorRT engine build can take minutes on a Jetson: keep systemd from timing out the start.
        Notify("EXTEND_TIMEOUT_USEC=" + (600L * 1_000_000).ToString(CultureInfo.InvariantCulture));
        _session = SegmentationSession.Open(modelPath, options.Model, log);
        var resize = options.Model.Resize ?? _session.Info.Resize;
        log.LogInformation("Model {Architecture} {Width}x{Height} from {Path} on {Provider}, input resize {Resize} ({Origin})",
            _session.Info.Architecture, _session.Info.Width, _session.Info.Height, modelPath, _session.Provider.Name(), InputResizes.Name(resize),
            options.Model.Resize is not null ? "Model:Resize" : _session.Info.StatesResize ? "the model's" : "the default for models that name none");
        var warmup = new double[options.Model.WarmupFrames];
        _session.Time(warmup);
        if (warmup.Length > 0) log.LogInformation("Warm-up: {Frames} frames, last {Ms:F1} ms", warmup.Length, warmup[^1]);

        var geometry = new RingGeometry(options.Output.Slots, _session.Info.Width, _session.Info.Height, _session.Info.Classes.Count);
        var feeds = new List<CameraFeed>();
        for (int i = 0; i < cameras.Count; i++)
        {
            var ring = MaskRingWriter.Create(cameras[i].RingPath, geometry, TemporaryRing.Describe(_session.Info), options.Output.Access());
            _rings.Add(ring);
            feeds.Add(new CameraFeed(cameras[i].Name, _sources[i], cameras[i].Source, ring));
            log.LogInformation("Publishing {Width}x{Height} masks of camera {Camera} to {Path} ({Slots} slots)", geometry.Width, geometry.Height,
                cameras[i].Name, ring.Path, geometry.SlotCount);
        }

        _pipeline = new CameraPipeline(feeds, _session, log, resize, frameLimit: options.Run.Frames,
            batchWindow: TimeSpan.FromMilliseconds(options.Model.BatchWindowMs));
        if (_session.Info.Batch > 1)
            log.LogInformation("The model takes {Batch} images per run: the newest frame of each camera runs together (window {Window} ms)",
                _session.Info.Batch, options.Model.BatchWindowMs);
        Interlocked.Exchange(ref _lastProgressNs, (long)MonotonicClock.NowNs);
        Interlocked.Exchange(ref _startedNs, (long)MonotonicClock.NowNs);
        // Run:Frames publishes exactly that many (over all cameras): the subscription ends after the last one, before another frame is taken.
        var frames = options.Run.Frames > 0 ? _pipeline.Frames().Take((int)Math.Min(options.Run.Frames, int.MaxValue)) : _pipeline.Frames();
        _subscription = frames.Subscribe(OnFrame, OnError, OnCompleted);
        if (options.Metrics.Port > 0)
        {
            _metrics = new MetricsEndpoint(options.Metrics.Address, options.Metrics.Port, _session.Provider.Name(), _pipeline.Cameras);
            log.LogInformation("Prometheus metrics at {Url}", _metrics.Url);
        }
        _statsTimer = new Timer(_ => ReportStats(), null, TimeSpan.FromSeconds(options.Run.StatsIntervalSeconds), TimeSpan.FromSeconds(options.Run.StatsIntervalSeconds));
        StartWatchdog();
        // READY=1 (sent by the host when this returns) means masks flow — or the source is being reconnected and the service is
        // doing what it should about it; a pipeline that ends or fails at once ends the start too.
        Notify("STATUS=waiting for the first frame");
        await WhenFlowingOrReconnecting(cancellationToken);
        Status();
    }

    /// <summary>
    /// The cameras of this configuration: the named ones of Cameras, each into its own ring; else the one camera of Source (the embedded
    /// night drive when its URI is empty) into the ring at Output:Path, named after that file.
    /// </summary>
    private List<(string Name, SourceOptions Source, string RingPath)> Cameras()
    {
        if (options.Cameras.Count > 0)
            return [.. options.Cameras.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, c.Value, options.Output.CameraRingPath(c.Key)))];
        var source = options.Source.Uri.Length > 0 ? options.Source : options.Source with { Uri = "file://" + EdgeDefaults.VideoPath };
        return [(Path.GetFileName(options.Output.RingPath), source, options.Output.RingPath)];
    }

    /// <summary>Start-up waits for the first mask of any camera, or for a camera being reconnected (the service then does what it should).</summary>
    private async Task WhenFlowingOrReconnecting(CancellationToken cancel)
    {
        while (!_flowing.Task.IsCompleted && !_pipeline!.Cameras.Any(c => c.Health.State == SourceState.Reconnecting))
            await Task.WhenAny(_flowing.Task, Task.Delay(50, cancel));
    }

    private void OnFrame(CameraFrame frame)
    {
        Interlocked.Exchange(ref _lastProgressNs, (long)frame.Timings.PublishedNs);
        _flowing.TrySetResult();
    }

    private void OnError(Exception ex)
    {
        _flowing.TrySetResult();
        log.LogError("Pipeline failed: {Message}", ex.Message);
        ExitCode = 1;
        lifetime.StopApplication();
    }

    private void OnCompleted()
    {
        _flowing.TrySetResult();
        if (options.Run.Frames > 0 && _pipeline!.Stats.Published >= options.Run.Frames)
            log.LogInformation("Published {Frames} frames (Run:Frames); stopping", _pipeline.Stats.Published);
        else log.LogInformation("Source ended; {Frames} frames published, {Dropped} dropped", _pipeline!.Stats.Published, _pipeline.Stats.Dropped);
        long damaged = _pipeline.Cameras.Sum(c => c.Health.DamagedInput);
        if (damaged > 0)
        {
            log.LogWarning("The input was damaged {Times} time(s): undecodable frames were skipped (see above); exit code {Code}", damaged, DamagedInput);
            ExitCode = DamagedInput;
        }
        lifetime.StopApplication();
    }

    private void ReportStats()
    {
        if (_pipeline is null) return;
        long dropped = _pipeline.Stats.Dropped;
        log.LogInformation("{Stats}", _pipeline.Stats.Report(MonotonicClock.NowNs, Interlocked.Exchange(ref _droppedAtLastReport, dropped)));
        Status(force: true);
    }

    /// <summary>
    /// STATUS= for systemctl status: provider, fps since the last status, masks, and each camera's source state and reconnects (one camera:
    /// as before, "source …") — sent when a state changes, and with every statistics line.
    /// </summary>
    private void Status(bool force = false)
    {
        if (_pipeline is null || _session is null || notifier is not { IsEnabled: true }) return;
        long now = (long)MonotonicClock.NowNs, published = _pipeline.Stats.Published;
        var cameras = _pipeline.Cameras;
        string sources = cameras.Count == 1
            ? $"source {cameras[0].Health.Describe()}, reconnects {cameras[0].Health.Reconnects}"
            : string.Join("; ", cameras.Select(c => $"{c.Name} {c.Health.Describe()}, {c.Published} masks, reconnects {c.Health.Reconnects}"));
        string state = string.Join(",", cameras.Select(c => c.Health.State));
        string line;
        lock (_statusLock)
        {
            // Between statistics, only a change of a source's state is news.
            if (!force && _statusState == state) return;
            _statusState = state;
            double seconds = Math.Max(1e-3, (now - _lastStatusNs) / 1e9);
            double fps = force ? (published - _publishedAtLastStatus) / seconds : 0;
            if (force) (_lastStatusNs, _publishedAtLastStatus) = (now, published);
            line = string.Create(CultureInfo.InvariantCulture,
                $"STATUS={_session.Provider.Name()}, {(force ? $"{fps:F1} fps, " : "")}{published} masks, {sources}");
        }
        Notify(line);
    }

    private void StartWatchdog()
    {
        if (notifier is not { IsEnabled: true }) return;
        string? usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        if (!long.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out long microseconds) || microseconds <= 0) return;
        var interval = TimeSpan.FromMicroseconds(microseconds);
        _watchdog = new Timer(_ =>
        {
            // Ping only while work gets done (masks published, or the source being reconnected): a hung inference or a capture
            // thread stuck in a read stops the pings, and systemd restarts the service.
            if (_pipeline is { } pipeline && ShouldPing(pipeline, (long)MonotonicClock.NowNs, interval)) Notify("WATCHDOG=1");
            Status();
        }, null, interval / 2, interval / 2);
    }

    /// <summary>
    /// Every camera still running publishes or is visibly reconnecting (a camera that ended is reported in STATUS, not waited for); with one
    /// camera, exactly the classic rule over the last mask of any camera.
    /// </summary>
    private bool ShouldPing(CameraPipeline pipeline, long now, TimeSpan interval)
    {
        if (pipeline.Cameras.Count == 1) return Liveness.ShouldPing(now, Interlocked.Read(ref _lastProgressNs), pipeline.Cameras[0].Health, interval);
        var running = pipeline.Cameras.Where(c => !c.Ended).ToList();
        return running.Count > 0 && running.All(c => Liveness.ShouldPing(now, Math.Max(c.LastPublishNs, Interlocked.Read(ref _startedNs)), c.Health, interval));
    }

    private void Notify(string state)
    {
        if (notifier is { IsEnabled: true }) notifier.Notify(new ServiceState(state));
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _watchdog?.Dispose();
        _statsTimer?.Dispose();
        _subscription?.Dispose();
        _subscription = null;
        if (_pipeline is not null) ReportStats();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _metrics?.Dispose();
        _subscription?.Dispose();
        _pipeline?.Dispose();
        // A source whose capture thread had to be abandoned is still in use by it: left to the process's end.
        for (int i = 0; i < _sources.Count; i++)
            if (_pipeline?.Cameras[i].Health.Abandoned != true) _sources[i].Dispose();
        foreach (var ring in _rings) ring.Dispose();
        _session?.Dispose();
    }
}
