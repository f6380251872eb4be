using System.Globalization;
using System.Text;

namespace DANNet.Model.IO;

/// <summary>
/// Binary PPM (P6, RGB) in and PGM (P5, grey) out, with no image library: what <c>dannet-edge model
/// --image/--mask-out</c> exchange, so that a model can be run on a real frame on a board that has no
/// OpenCV build yet (a fresh arm64 install) and its mask compared byte for byte with another machine's.
/// </summary>
public static class NetpbmImage
{
    /// <summary>
    /// Reads a P6 image of exactly <paramref name="width"/>×<paramref name="height"/> (maxval 255) into
    /// <paramref name="bgr"/> as BGR. The header is checked before anything is allocated or read: another
    /// size, another format or a short file is an error naming the file and what it holds.
    /// </summary>
    public static void ReadPpmAsBgr(string path, int width, int height, Span<byte> bgr)
    {
        using var stream = File.OpenRead(path);
        string Fail(string what) => throw new InvalidDataException($"'{path}': {what}. Give a binary PPM (P6, maxval 255) of {width}x{height}, e.g. " +
            $"'ffmpeg -i frame.png -vf scale={width}:{height} -f image2 -vcodec ppm frame.ppm'.");
        string magic = Token(stream, Fail);
        if (magic != "P6") Fail($"starts with '{magic}', not P6");
        int w = Number(Token(stream, Fail), Fail), h = Number(Token(stream, Fail), Fail), max = Number(Token(stream, Fail), Fail);
        if (max != 255) Fail($"maxval {max}");
        if (w != width || h != height) Fail($"is {w}x{h}, the model takes {width}x{height}");
        long pixels = (long)w * h * 3;
        if (bgr.Length != pixels) throw new ArgumentException($"the buffer holds {bgr.Length} bytes for a {w}x{h} BGR image", nameof(bgr));
        if (stream.Length - stream.Position != pixels) Fail($"has {stream.Length - stream.Position} bytes of pixels, {pixels} expected");
        stream.ReadExactly(bgr);
        for (int i = 0; i < bgr.Length; i += 3) (bgr[i], bgr[i + 2]) = (bgr[i + 2], bgr[i]);
    }

    /// <summary>Writes <paramref name="grey"/> (height·width bytes) as a binary PGM, atomically (<see cref="DANNet.Model.IO.AtomicFile"/>).</summary>
    public static void WritePgm(string path, ReadOnlySpan<byte> grey, int width, int height)
    {
        if (grey.Length != width * height) throw new ArgumentException($"{grey.Length} bytes for a {width}x{height} image", nameof(grey));
        byte[] header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"P5\n{width} {height}\n255\n"));
        DANNet.Model.IO.AtomicFile.WriteAllBytes(path, [.. header, .. grey]);
    }

    private static string Token(Stream stream, Func<string, string> fail)
    {
        var token = new StringBuilder();
        while (true)
        {
            int c = stream.ReadByte();
            if (c < 0) return token.Length > 0 ? token.ToString() : fail("ends inside its header");
            if (c == '#' && token.Length == 0)
            {
                while (c >= 0 && c != '\n') c = stream.ReadByte();
                continue;
            }
            if (char.IsWhiteSpace((char)c))
            {
                if (token.Length > 0) return token.ToString();
                continue;
            }
            if (token.Length >= 8) fail("has a header field longer than 8 characters");
            token.Append((char)c);
        }
    }

    private static int Number(string token, Func<string, string> fail)
    {
        if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0) return v;
        fail($"header field '{token}' is not a positive number");
        return 0; // fail throws
    }
}
