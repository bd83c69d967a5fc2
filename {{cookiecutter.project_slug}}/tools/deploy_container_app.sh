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
echo "Deploying $IMAGE to the container app $APP (resource group $RESOURCE_GROUP)." >&2
az containerapp update --name "$APP" --resource-group "$RESOURCE_GROUP" \
  --image "$IMAGE" --output none >&2
fqdn="$(az containerapp show --name "$APP" --resource-group "$RESOURCE_GROUP" \
  --query properties.configuration.ingress.fqdn --output tsv)"
if [ -z "$fqdn" ]; then
  echo "error: the container app $APP has no ingress: enable external ingress on port 8000 (docs/serving.md)." >&2
  exit 1
fi
echo "https://$fqdn"
