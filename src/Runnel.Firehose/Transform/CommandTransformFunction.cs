using System.Diagnostics;

namespace Runnel.Firehose.Transform;

/// <summary>
/// A function as a local command (<c>--transform-command</c>, run by <c>/bin/sh -c</c> with <c>FUNCTION_NAME</c> and
/// <c>FUNCTION_ARN</c> in its environment): the event on its standard input, its answer on its standard output; a
/// non-zero exit, or no exit within 5 minutes (it is killed), is a function error. Thread-safe: a process per call.
/// </summary>
public sealed class CommandTransformFunction(string command) : ITransformFunction
{
    public async Task<InvocationResult> InvokeAsync(string functionArn, byte[] request, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        start.Environment["FUNCTION_NAME"] = HttpTransformFunction.FunctionName(functionArn);
        start.Environment["FUNCTION_ARN"] = functionArn;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("/bin/sh did not start");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HttpTransformFunction.Timeout);
        try
        {
            var output = new MemoryStream();
            var reading = process.StandardOutput.BaseStream.CopyToAsync(output, timeout.Token);
            var errors = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.StandardInput.BaseStream.WriteAsync(request, timeout.Token).ConfigureAwait(false);
            process.StandardInput.Close();
            await reading.ConfigureAwait(false);
            string stderr = await errors.ConfigureAwait(false);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            return process.ExitCode == 0
                ? new InvocationResult(output.ToArray(), null)
                : new InvocationResult(null, $"The command exited with {process.ExitCode}: {stderr.Trim()}");
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            if (cancellationToken.IsCancellationRequested)
                throw;
            return new InvocationResult(null, e is IOException ? $"The command failed: {e.Message}" :
                "Firehose encountered timeout errors when calling AWS Lambda. The maximum supported function timeout is 5 minutes.");
        }
    }
}
