namespace Runnel.Server.CloudWatch;

/// <summary>
/// IAM for the CloudWatch operations (docs/security.md): the action is <c>cloudwatch:OPERATION</c>; the alarm operations
/// act on each alarm they name (<c>arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME</c>), the metric operations on none
/// (<c>*</c>). A denial is CloudWatch's <c>AccessDenied</c>, HTTP 403. Thread-safe.
/// </summary>
public sealed class CloudWatchAccess(Auth.AccessControl access, string region, string account)
{
    public void Authorize(Auth.Credential credential, string operation, CloudWatchRequest request)
    {
        string action = "cloudwatch:" + operation;
        var alarms = request.Strings("AlarmNames").ToList();
        if (request.String("AlarmName") is { } one)
            alarms.Add(one);
        foreach (string resource in alarms.Count == 0 ? ["*"] : alarms.Select(name => $"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"))
            if (access.Denial(credential, action, resource) is { } denial)
                throw new CloudWatchException("AccessDenied", denial, 403);
    }
}
