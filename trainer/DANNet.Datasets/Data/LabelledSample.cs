using DANNet.Model.Scoring;
using DANNet.Model.IO;
using DANNet.Trainer.IO;

namespace DANNet.Trainer.Data;

/// <summary>Where one labelled image and its labelIds file are; <see cref="Load"/> reads and checks both.</summary>
public sealed record LabelledSample(string Name, string ImagePath, string LabelPath)
{
    /// <summary>
    /// Reads the image and its label, checks they have the same size and maps labelIds to trainIds.
    /// Every failure names the file concerned.
    /// </summary>
    public LabelledImage Load()
    {
        try
        {
            var image = ImageFiles.ReadColor(ImagePath);
            try
            {
                using var labelIds = ImageFiles.ReadLabel(LabelPath);
                if (labelIds.Size() != image.Size())
                    throw new DatasetException($"Label '{LabelPath}' is {labelIds.Width}x{labelIds.Height} but its image '{ImagePath}' is " +
                        $"{image.Width}x{image.Height}; a label must have its image's size.");
                return new LabelledImage(image, LabelMapping.ToTrainIds(labelIds, LabelPath), Name);
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException)
        {
            throw new DatasetException(ex.Message, ex);
        }
    }
}
