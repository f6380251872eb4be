using System.Diagnostics.Metrics;
using DANNet.Edge.Pipeline;
using Prometheus;

namespace DANNet.Edge.Service;

/// <summary>
/// The optional Prometheus endpoint (<c>Metrics:Port</c>, off by default): <c>http://Address:Port/metrics</c>
/// served by prometheus-net's stand-alone HTTP listener, which publishes the pipeline's
/// System.Diagnostics.Metrics instruments (frames published, dropped and captured; per-stage latency
/// histograms; allocations) and the service's own gauges: the source's state and reconnects, and the
/// execution provider as an info metric.
/// </summary>
public sealed class MetricsEndpoint : IDisposable
{
    public const string ServiceMeterName = "DANNet.Edge.Service";

    private readonly Meter _meter = new(ServiceMeterName);
    private readonly MetricServer _server;

    public MetricsEndpoint(string address, int port, string provider, IReadOnlyList<CameraStatus> cameras)
    {
        // Per camera, labelled with its name (the ring's file name).
        IEnumerable<Measurement<long>> PerCamera(Func<CameraStatus, long> value) =>
            cameras.Select(c => new Measurement<long>(value(c), new KeyValuePair<string, object?>("camera", c.Name)));
        _meter.CreateObservableGauge("dannet_edge.source.reconnects", () => PerCamera(c => c.Health.Reconnects), "{attempt}", "Re-opens of the source since the start.");
        _meter.CreateObservableGauge("dannet_edge.source.reading", () => PerCamera(c => c.Health.State == SourceState.Reading ? 1 : 0), null,
            "1 while the source gives frames.");
        _meter.CreateObservableGauge("dannet_edge.source.damaged", () => PerCamera(c => c.Health.DamagedInput), "{event}", "Times damaged input was skipped.");
        _meter.CreateObservableGauge("dannet_edge.camera.published", () => PerCamera(c => c.Published), "{mask}", "Masks published from the camera.");
        _meter.CreateObservableGauge("dannet_edge.camera.dropped", () => PerCamera(c => c.Dropped), "{frame}",
            "Frames of the camera replaced by a newer one before inference took them.");
        _meter.CreateObservableGauge("dannet_edge.provider", () => new Measurement<int>(1, new KeyValuePair<string, object?>("provider", provider)), null,
            "The execution provider the model runs on (value 1, the provider as a label).");
        Metrics.ConfigureMeterAdapter(o => o.InstrumentFilterPredicate = i => i.Meter.Name is PipelineMetrics.MeterName or ServiceMeterName);
        // HttpListener's host names: '+' listens on every interface (0.0.0.0 and :: in the configuration), IPv6 in brackets.
        var ip = System.Net.IPAddress.Parse(address);
        string host = ip.Equals(System.Net.IPAddress.Any) || ip.Equals(System.Net.IPAddress.IPv6Any) ? "+"
            : ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip.ToString();
        _server = new MetricServer(host, port, "metrics/", Metrics.DefaultRegistry);
        try
        {
            _server.Start();
        }
        catch (System.Net.HttpListenerException ex)
        {
            _server.Dispose();
            _meter.Dispose();
            throw new IOException($"Metrics:Port {port} on {address} cannot be served: {ex.Message}. Choose a free port (Metrics:Port) or an address of " +
                "this machine (Metrics:Address).", ex);
        }
        Url = $"http://{(host == "+" ? "localhost" : host)}:{port}/metrics";
    }

    public string Url { get; }

    public void Dispose()
    {
        _server.Dispose();
        _meter.Dispose();
    }
}
