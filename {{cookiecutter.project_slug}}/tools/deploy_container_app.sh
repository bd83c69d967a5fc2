#!/usr/bin/env bash
# Deploy one image to one Azure Container App and print the app's address.
#
#   APP=<name> RESOURCE_GROUP=<group> IMAGE=<image> bash tools/deploy_container_app.sh
#
# The Azure CLI must be logged in (azure/login on GitHub Actions, AzureCLI@2
# with the service connection on Azure Pipelines). `az containerapp update`
# makes a new revision running IMAGE; the previous revision stays, which is
# what a rollback goes back to (docs/serving.md, section Rollback). The last
# line of output is the app's https:// address, for the smoke test.
set -euo pipefail

: "${APP:?set APP, the container app}"
: "${RESOURCE_GROUP:?set RESOURCE_GROUP, the resource group of the app}"
: "${IMAGE:?set IMAGE, the image to deploy}"
# The port the image's server listens on is the Dockerfile's EXPOSE: the app's
# ingress must send its traffic there (its target port), or no request arrives.
port="$(sed -n 's/^EXPOSE \([0-9]*\).*/\1/p' Dockerfile)"
show() {
  az containerapp show --name "$APP" --resource-group "$RESOURCE_GROUP" \
    --query "properties.configuration.ingress.$1" --output tsv
}
target="$(show targetPort)"
if [ -z "$target" ]; then
  echo "error: the container app $APP has no ingress: enable external ingress on port $port," \
    "the image's port: az containerapp ingress enable --name $APP --resource-group" \
    "$RESOURCE_GROUP --type external --target-port $port (docs/serving.md)." >&2
  exit 1
fi
if [ "$target" != "$port" ]; then
  echo "error: the container app $APP sends its traffic to port $target, but the image" \
    "listens on port $port (EXPOSE in the Dockerfile): az containerapp ingress update" \
    "--name $APP --resource-group $RESOURCE_GROUP --target-port $port" >&2
  exit 1
fi
echo "Deploying $IMAGE to the container app $APP (resource group $RESOURCE_GROUP)." >&2
if ! az containerapp update --name "$APP" --resource-group "$RESOURCE_GROUP" \
  --image "$IMAGE" --output none >&2; then
  registry="${IMAGE%%/*}"
  if [[ "$registry" == *.azurecr.io ]]; then
    echo "error: if the error above says UNAUTHORIZED, the container app $APP may not pull" \
      "from $registry: az containerapp registry set --name $APP --resource-group" \
      "$RESOURCE_GROUP --server $registry --identity system (docs/azure-devops.md)." >&2
  fi
  exit 1
fi
echo "https://$(show fqdn)"
