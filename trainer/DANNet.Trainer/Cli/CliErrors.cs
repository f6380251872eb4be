namespace DANNet.Trainer.Cli;

/// <summary>Turns the errors a user can fix (bad files, bad paths) into one clear line and exit code 1.</summary>
internal static class CliErrors
{
    public static int Run(TextWriter error, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or Data.DatasetException or Models.Checkpoints.CheckpointException
            or Models.Pretrained.PretrainedException)
        {
            error.WriteLine($"error: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("cancelled.");
            return 130;
        }
    }
}
