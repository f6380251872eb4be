using System.Net;
using System.Net.Sockets;
using DANNet.Edge.Configuration;
using DANNet.Edge.SharedMemory;

namespace DANNet.Edge.Service;

/// <summary>
/// What can be found wrong with a run before anything expensive (model load, warm-up, the ring): the
/// readers' group exists, no other writer publishes to the ring, the metrics port can be served.
/// Each problem is one line naming the setting and the fix; the daemon exits 2 on any (a usage
/// error, which systemd's RestartPreventExitStatus=2 does not restart).
/// </summary>
public static class StartChecks
{
    public static IReadOnlyList<string> Problems(EdgeOptions options)
    {
        var problems = new List<string>();
        try
        {
            options.Output.Access().GroupId();
        }
        catch (ArgumentException ex)
        {
            problems.Add($"Output:Group: {ex.Message}");
        }
        if (MaskRingWriter.RunningWriter(options.Output.RingPath) is { } pid)
            problems.Add($"Output: another writer (pid {pid}) is publishing to '{options.Output.RingPath}'. Stop it first (systemctl stop dannet-edge), or give this run another Output:Path.");
        if (options.Metrics.Port > 0 && IPAddress.TryParse(options.Metrics.Address, out var address))
        {
            try
            {
                var probe = new TcpListener(address, options.Metrics.Port);
                probe.Start();
                probe.Stop();
            }
            catch (SocketException ex)
            {
                problems.Add($"Metrics:Port {options.Metrics.Port} on {options.Metrics.Address} cannot be served: {ex.Message}. Choose a free port (Metrics:Port) " +
                    "or an address of this machine (Metrics:Address).");
            }
        }
        return problems;
    }
}
