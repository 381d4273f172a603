"""Expands a SAM template (JSON on stdin) into the CloudFormation template SAM deploys (JSON on stdout).

Offline: local CodeUri and DefinitionUri values are replaced by an S3 URI, as `sam package` does, and no managed policy
names are looked up (the template names none), so no AWS call is made.
"""

import json
import sys

from samtranslator.translator.transform import transform


class NoManagedPolicyNames:
    def load(self):
        return {}


template = json.load(sys.stdin)
for resource in template.get("Resources", {}).values():
    if resource.get("Type") == "AWS::Serverless::Function":
        properties = resource.setdefault("Properties", {})
        code_uri = properties.get("CodeUri")
        if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
            properties["CodeUri"] = "s3://packaged-artifacts/" + code_uri.strip("./")
    if resource.get("Type") == "AWS::Serverless::StateMachine":
        properties = resource.setdefault("Properties", {})
        definition_uri = properties.get("DefinitionUri")
        if isinstance(definition_uri, str) and not definition_uri.startswith("s3://"):
            properties["DefinitionUri"] = "s3://packaged-artifacts/" + definition_uri.strip("./")
json.dump(transform(template, {}, NoManagedPolicyNames()), sys.stdout)
