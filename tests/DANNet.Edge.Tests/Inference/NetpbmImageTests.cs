using DANNet.Model.IO;
using System.Text;

namespace DANNet.Edge.Tests.Inference;

/// <summary>The PPM/PGM exchange of <c>dannet-edge model --image/--mask-out</c>: exact round trips, and headers checked before reading.</summary>
public sealed class NetpbmImageTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dannet-netpbm-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private string Write(string name, string header, int pixelBytes)
    {
        string path = Path.Combine(_dir, name);
        var bytes = Encoding.ASCII.GetBytes(header).Concat(Enumerable.Range(0, pixelBytes).Select(i => (byte)(i * 7))).ToArray();
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void A_ppm_is_read_as_bgr_and_a_pgm_written_byte_for_byte()
    {
        string path = Write("ok.ppm", "P6\n# a comment\n4 2\n255\n", 4 * 2 * 3);
        var bgr = new byte[4 * 2 * 3];
        NetpbmImage.ReadPpmAsBgr(path, 4, 2, bgr);
        Assert.Equal([(byte)14, 7, 0], bgr[..3]);   // RGB 0, 7, 14 → BGR
        byte[] grey = [1, 2, 3, 4, 5, 6, 7, 8];
        string pgm = Path.Combine(_dir, "m.pgm");
        NetpbmImage.WritePgm(pgm, grey, 4, 2);
        Assert.Equal(Encoding.ASCII.GetBytes("P5\n4 2\n255\n").Concat(grey), File.ReadAllBytes(pgm));
        Assert.Equal(["m.pgm", "ok.ppm"], Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));   // no temporary left
    }

    [Theory]
    [InlineData("P3\n4 2\n255\n", 24, "starts with 'P3', not P6")]
    [InlineData("P6\n4 2\n65535\n", 48, "maxval 65535")]
    [InlineData("P6\n99999 99999\n255\n", 24, "is 99999x99999, the model takes 4x2")]
    [InlineData("P6\n4 2\n255\n", 23, "has 23 bytes of pixels, 24 expected")]
    [InlineData("P6\n4", 0, "ends inside its header")]
    [InlineData("P6\n123456789012 2\n255\n", 24, "header field longer than 8 characters")]
    [InlineData("P6\n-4 2\n255\n", 24, "'-4' is not a positive number")]
    public void A_bad_header_is_refused_naming_the_file_before_any_pixel_is_read(string header, int pixels, string message)
    {
        string path = Write("bad.ppm", header, pixels);
        var ex = Assert.Throws<InvalidDataException>(() => NetpbmImage.ReadPpmAsBgr(path, 4, 2, new byte[24]));
        Assert.Contains(path, ex.Message);
        Assert.Contains(message, ex.Message);
    }
}
