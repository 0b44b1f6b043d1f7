"""Maps for supervisors (GeoJSON layers, vector tiles, the village choropleth) and visit lists."""
