using System.Net;
using System.Net.Sockets;
using DANNet.Edge.Tests.SharedMemory;
using Xunit.Abstractions;

namespace DANNet.Edge.Tests.Service;

/// <summary>The optional Prometheus endpoint, scraped from a running daemon; off unless Metrics:Port is set.</summary>
[Collection(RingProcessCollection.Name)]
public sealed class MetricsTests(ITestOutputHelper log) : RingFolderTests("dannet-metrics-")
{
    [Fact]
    public async Task A_running_daemon_serves_its_pipeline_and_source_metrics_on_loopback()
    {
        // A free port is only free until someone takes it (other tests open servers too): a daemon that finds it taken says so and
        // exits 2 at start; then the test tries another port. Any other early exit fails with the daemon's output.
        System.Diagnostics.Process? daemon = null;
        string text = "";
        try
        {
            for (int attempt = 0; attempt < 3; attempt++)
            {
                int port;
                using (var probe = new TcpListener(IPAddress.Loopback, 0))
                {
                    probe.Start();
                    port = ((IPEndPoint)probe.LocalEndpoint).Port;
                }
                daemon = RingProcesses.Start("env", $"DANNET_EDGE_Metrics__Port={port}", "dotnet", RingProcesses.EdgeDll, "run",
                    "--output", Path.Combine(Dir, "masks"), "--providers", "cpu");
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(60) && !daemon.HasExited)
                {
                    try
                    {
                        text = await http.GetStringAsync($"http://127.0.0.1:{port}/metrics");
                        // A scrape reads the instruments one after another: a frame can be counted published before its latencies are.
                        if (Value(text, "dannet_edge_pipeline_dannet_edge_frames_published") >= 3
                            && Value(text, "dannet_edge_pipeline_dannet_edge_latency_infer_count") >= 3) break;
                    }
                    catch (HttpRequestException) { }
                    await Task.Delay(200);
                }
                if (!daemon.HasExited) break;
                var (code, output) = RingProcesses.Finish(daemon);
                log.WriteLine($"port {port}: exit {code}: {output}");
                Assert.True(code == 2 && output.Contains("Metrics:Port", StringComparison.Ordinal), $"the daemon exited {code}: {output}");
            }
            log.WriteLine(string.Join('\n', text.Split('\n').Where(l => l.StartsWith("dannet", StringComparison.Ordinal)).Take(40)));
            Assert.True(Value(text, "dannet_edge_pipeline_dannet_edge_frames_published") >= 3, "no published frames counted");
            Assert.True(Value(text, "dannet_edge_pipeline_dannet_edge_latency_infer_count") >= 3);
            Assert.Contains("dannet_edge_pipeline_dannet_edge_latency_infer_bucket{le=", text);
            Assert.Contains("dannet_edge_pipeline_dannet_edge_frames_dropped", text);
            Assert.Contains("dannet_edge_service_dannet_edge_provider{provider=\"cpu\"} 1", text);
            // Source gauges carry the camera (its ring's name).
            Assert.Equal(1, Value(text, "dannet_edge_service_dannet_edge_source_reading{camera=\"masks\"}"));
            Assert.Equal(0, Value(text, "dannet_edge_service_dannet_edge_source_reconnects{camera=\"masks\"}"));
            Assert.True(Value(text, "dannet_edge_service_dannet_edge_camera_published{camera=\"masks\"}") >= 1);
        }
        finally
        {
            if (daemon is { HasExited: false }) daemon.Kill(entireProcessTree: true);
        }
    }

    /// <summary>The value of an unlabelled series, or −1 when it is not there.</summary>
    private static double Value(string text, string series)
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? -1 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
