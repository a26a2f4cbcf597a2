namespace KneeOnnx.Generation;

/// <summary>Where a generation run stands after one denoising step of one batch.</summary>
/// <param name="ImagesDone">images finished before the current batch.</param>
/// <param name="BatchImages">images in the current batch.</param>
public readonly record struct GenerationProgress(int ImagesDone, int ImagesTotal, int BatchImages, int Step, int Steps, TimeSpan Elapsed)
{
    /// <summary>Images' worth of work done, counting the current batch's finished steps.</summary>
    public double ImagesEquivalent => ImagesDone + BatchImages * (double)Step / Steps;

    public double ImagesPerSecond => Elapsed.TotalSeconds > 0 ? ImagesEquivalent / Elapsed.TotalSeconds : 0;

    public TimeSpan? Remaining => ImagesPerSecond > 0 ? TimeSpan.FromSeconds((ImagesTotal - ImagesEquivalent) / ImagesPerSecond) : null;

    public override string ToString() =>
        $"{ImagesDone}/{ImagesTotal} images, step {Step}/{Steps} of a batch of {BatchImages}  {ImagesPerSecond:F2} img/s  ETA "
        + (Remaining is TimeSpan r ? r.ToString(@"hh\:mm\:ss") : "--:--:--");
}
