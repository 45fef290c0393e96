namespace Runnel.Functions.Api;

/// <summary>
/// Lambda's REST API under <c>/2015-03-31</c> (docs/compatibility.md, "Lambda"): routes a call by its method and path
/// to the operation that parses, decides and answers it. Paths it does not know are <c>UnknownOperationException</c>,
/// as Lambda's front answers them. Thread-safe.
/// </summary>
public sealed class LambdaApi(FunctionOperations functions, InvokeOperation invoke, EventSourceMappingOperations mappings, FunctionUpdates? updates = null)
{
    /// <summary>The path prefix of every operation.</summary>
    public const string PathPrefix = "/2015-03-31/";

    public Task<LambdaAnswer> HandleAsync(LambdaRequest request, CancellationToken cancellationToken)
    {
        var s = request.Segments;
        string method = request.Method;
        if (s.Count >= 1 && s[0] == "functions")
        {
            if (s.Count == 1 || (s.Count == 2 && s[1] == ""))
            {
                if (method == "POST")
                    return Task.FromResult(functions.Create(request));
                if (method == "GET")
                    return Task.FromResult(functions.List(request));
            }
            else if (s.Count == 2)
            {
                if (method == "GET")
                    return Task.FromResult(functions.Get(request, s[1]));
                if (method == "DELETE")
                    return functions.DeleteAsync(request, s[1]);
            }
            else if (s.Count == 3 && s[2] == "invocations" && method == "POST")
                return invoke.InvokeAsync(request, s[1], cancellationToken);
            else if (s.Count == 3 && s[2] == "configuration" && method == "GET")
                return Task.FromResult(functions.GetConfiguration(request, s[1]));
            else if (s.Count == 3 && s[2] == "configuration" && method == "PUT" && updates is not null)
                return updates.ConfigurationAsync(request, s[1]);
            else if (s.Count == 3 && s[2] == "code" && method == "PUT" && updates is not null)
                return updates.CodeAsync(request, s[1]);
        }
        if (s.Count >= 1 && s[0] == "event-source-mappings")
        {
            if (s.Count == 1 || (s.Count == 2 && s[1] == ""))
            {
                if (method == "POST")
                    return Task.FromResult(mappings.Create(request));
                if (method == "GET")
                    return Task.FromResult(mappings.List(request));
            }
            else if (s.Count == 2)
            {
                switch (method)
                {
                    case "GET":
                        return Task.FromResult(mappings.Get(s[1]));
                    case "PUT":
                        return Task.FromResult(mappings.Update(request, s[1]));
                    case "DELETE":
                        return Task.FromResult(mappings.Delete(s[1]));
                }
            }
        }
        throw LambdaErrors.UnknownOperation();
    }
}
