namespace KneeOnnx.Training.Runs;

/// <summary>Linear warm-up to the peak rate, then half a cosine down to a floor at the last step.</summary>
public static class LearningRateSchedule
{
    public static double At(long step, double peak, int warmupSteps, long totalSteps, double finalFraction)
    {
        if (warmupSteps > 0 && step < warmupSteps)
            return peak * (step + 1) / warmupSteps;
        long decaySteps = Math.Max(1, totalSteps - warmupSteps);
        double progress = Math.Clamp((double)(step - warmupSteps) / decaySteps, 0, 1);
        double floor = peak * finalFraction;
        return floor + (peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }
}
