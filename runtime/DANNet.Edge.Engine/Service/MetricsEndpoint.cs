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

    public MetricsEndpoint(string address, int port, string provider, SourceHealth source)
    {
        _meter.CreateObservableGauge("dannet_edge.source.reconnects", () => source.Reconnects, "{attempt}", "Re-opens of the source since the start.");
        _meter.CreateObservableGauge("dannet_edge.source.reading", () => source.State == SourceState.Reading ? 1 : 0, null, "1 while the source gives frames.");
        _meter.CreateObservableGauge("dannet_edge.source.damaged", () => source.DamagedInput, "{event}", "Times damaged input was skipped.");
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
